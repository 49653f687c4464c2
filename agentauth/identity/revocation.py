"""The revocation list: revoked token ids and suspended agents.

The database holds the durable copy; the cache (Redis in production) answers the hot path with
one round trip. A marker key says the cache holds the whole list: after a Redis restart the
marker is gone and the list is rebuilt from the database before anything is trusted.
"""

import contextlib
import logging
from datetime import datetime

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from .models import Revocation

log = logging.getLogger(__name__)

LOADED_MARKER = "agentauth:revocations:loaded"
PREFIX = "agentauth:revoked:"


class RevocationUnavailable(Exception):
    """Neither the cache nor the database could say whether a token is revoked."""


def jti_key(jti):
    return f"jti:{jti}"


def agent_key(client_id):
    return f"agent:{client_id}"


def _timeout(expires_at):
    if expires_at is None:
        return None
    return max(1, int((expires_at - timezone.now()).total_seconds()) + 1)


def add(key, expires_at: datetime | None = None):
    """Put `key` on the list, in the database and at once in the cache.

    The cache is written before commit on purpose: if the transaction rolls back, an entry
    refuses a token that was being revoked anyway, which fails safe.
    """
    Revocation.objects.update_or_create(key=key, defaults={"expires_at": expires_at})
    _cache_set(key, expires_at)


def remove(key):
    """Take `key` off the list; the cache follows only once the database has committed."""
    Revocation.objects.filter(key=key).delete()
    transaction.on_commit(lambda: _cache_delete(key))


def _cache_set(key, expires_at):
    try:
        cache.set(PREFIX + key, 1, timeout=_timeout(expires_at))
    except Exception:
        log.warning("revocation of %s not cached; forcing a rebuild", key, exc_info=True)
        _forget_marker()


def _cache_delete(key):
    try:
        cache.delete(PREFIX + key)
    except Exception:
        log.warning("revocation removal of %s not cached; forcing a rebuild", key, exc_info=True)
        _forget_marker()


def _forget_marker():
    # If Redis is down this fails too; it comes back empty, without the marker, and is rebuilt.
    with contextlib.suppress(Exception):
        cache.delete(LOADED_MARKER)


def rebuild_cache():
    """Copy every live revocation from the database into the cache, then set the marker."""
    now = timezone.now()
    for row in Revocation.objects.exclude(expires_at__lte=now).iterator():
        cache.set(PREFIX + row.key, 1, timeout=_timeout(row.expires_at))
    cache.set(LOADED_MARKER, 1, timeout=None)


def is_revoked(jti, client_id):
    """True when the token or its agent is revoked. Raises RevocationUnavailable to fail closed."""
    keys = [jti_key(jti), agent_key(client_id)]
    try:
        found = cache.get_many([LOADED_MARKER] + [PREFIX + key for key in keys])
        if LOADED_MARKER in found:
            return len(found) > 1
        rebuild_cache()
    except Exception:
        log.warning("revocation cache unavailable; asking the database", exc_info=True)
    try:
        return Revocation.objects.filter(key__in=keys).exclude(expires_at__lte=timezone.now()).exists()
    except DatabaseError as error:
        raise RevocationUnavailable from error


def purge_expired():
    return Revocation.objects.filter(expires_at__lte=timezone.now()).delete()[0]
