"""Celery entry points: take ids, call one service, own their retries. No logic here.

They run with late acks and reject-on-worker-lost (settings), so a killed worker's task comes
back; each is idempotent, so coming back is harmless.
"""

from celery import shared_task
from django.db import DatabaseError

from . import services


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=10)
def execute_approval(approval_id):
    services.redeem(approval_id)


@shared_task
def expire_overdue():
    return services.expire_overdue()


@shared_task
def requeue_stuck():
    return services.requeue_stuck()
