"""Celery entry points: take ids, call one service, own their retries. No logic here.

They run with late acks and reject-on-worker-lost (settings), so a killed worker's task comes
back; each is idempotent, so coming back is harmless.
"""

import logging

from celery import shared_task
from django.db import DatabaseError, transaction

from . import notifications, services

log = logging.getLogger(__name__)


def enqueue(task, *args):
    """Send `task` once the transaction commits. If the broker is down the send is logged, not
    raised: the database already holds the state, and the sweeps send the work again later."""

    def send():
        try:
            task.delay(*args)
        except Exception:
            log.warning("could not enqueue %s%r; a sweep will retry from the database", task.name, args, exc_info=True)

    transaction.on_commit(send)


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=10)
def execute_approval(approval_id):
    services.execute(approval_id)


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


@shared_task
def expire_overdue():
    return services.expire_overdue()


@shared_task
def requeue_stuck():
    return services.requeue_stuck()
