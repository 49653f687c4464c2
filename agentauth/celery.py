"""The Celery app: late acks, reject on worker loss, prefetch 1, a static beat schedule."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentauth.settings")

app = Celery("agentauth")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
