"""Celery entry point of the identity core."""

from celery import shared_task
from oauth2_provider.models import clear_expired

from . import revocation


@shared_task
def clear_expired_tokens():
    clear_expired()
    revocation.purge_expired()
