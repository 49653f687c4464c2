"""Celery entry points for the core: thin wrappers over plain functions."""

from celery import shared_task
from oauth2_provider.models import clear_expired

from . import audit, monitoring, reviews, revocation


@shared_task
def clear_expired_tokens():
    clear_expired()
    revocation.purge_expired()


@shared_task
def flush_activity():
    return monitoring.flush()


@shared_task
def security_review():
    return reviews.run()


@shared_task
def seal_audit_log():
    return audit.seal()
