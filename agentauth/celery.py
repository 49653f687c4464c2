"""The Celery app: late acks, reject on worker loss, prefetch 1, a static beat schedule."""

import os

from celery import Celery
from celery.signals import task_failure, task_retry, task_success

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentauth.settings")

app = Celery("agentauth")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _count(outcome):
    def receiver(sender=None, request=None, **kwargs):
        from .lib import metrics

        name = getattr(sender, "name", None) or getattr(request, "task", None) or "unknown"
        metrics.TASKS.labels(task=name, outcome=outcome).inc()

    return receiver


# Kept referenced here: Celery's signals hold their receivers weakly.
_COUNTERS = [_count(outcome) for outcome in ("success", "failure", "retry")]
task_success.connect(_COUNTERS[0])
task_failure.connect(_COUNTERS[1])
task_retry.connect(_COUNTERS[2])
