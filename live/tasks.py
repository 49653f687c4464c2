"""Celery entry points of live delivery: take ids, call one notification, own their retries."""

from celery import shared_task

from . import notifications


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_person(approval_id):
    notifications.email_person(approval_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=300, max_retries=8)
def call_back_agent(approval_id):
    notifications.call_back_agent(approval_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_alert(alert_id):
    notifications.email_alert(alert_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=120, max_retries=8)
def ping_ciba_client(approval_id):
    notifications.ping_ciba_client(approval_id)
