"""Sending Celery tasks once the transaction commits."""

import logging

from django.db import transaction

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
