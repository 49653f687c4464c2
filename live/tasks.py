"""Celery entry points of live delivery: take ids, call one notification, own their retries."""

from celery import shared_task
from django.conf import settings

from . import notifications


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=settings.AGENTAUTH_PUSH_RETRIES)
def notify_person(self, approval_id):
    # The last try e-mails instead of raising, so a dead push service still reaches the person.
    notifications.notify_person(approval_id, last_try=self.request.retries >= self.max_retries)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=300, max_retries=8)
def call_back_agent(approval_id):
    notifications.call_back_agent(approval_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_alert(alert_id):
    notifications.email_alert(alert_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=120, max_retries=8)
def ping_ciba_client(approval_id):
    notifications.ping_ciba_client(approval_id)
