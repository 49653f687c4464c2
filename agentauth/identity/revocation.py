"""The revocation list: revoked token ids and suspended agents.

The database holds the durable copy. With Redis, each process keeps the whole (small) list in
memory and answers from it: a counter in Redis, the generation, goes up on every change, and a
process reads it at most every FRESH_SECONDS; when it has moved, the process reloads the list
from the database. So the hot path makes no round trip, and a revocation anywhere is seen
everywhere within FRESH_SECONDS plus one reload (well under a second). A process that cannot
read the generation for longer than STALE_SECONDS stops trusting its copy and asks the cache,
then the database, as it did before the mirror: it never answers from an old list.

Without Redis (the embedded default: one process) the cache answers directly.
"""

import contextlib
import logging
import secrets
import threading
import time
from datetime import datetime

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from agentauth.lib import redis_client

from .models import Revocation

log = logging.getLogger(__name__)

LOADED_MARKER = "agentauth:revocations:loaded"
PREFIX = "agentauth:revoked:"
GENERATION = "agentauth:revocations:generation"
FRESH_SECONDS = 0.5
STALE_SECONDS = 1.0


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
    mirror.note(key, expires_at)
    _next_generation()  # now, failing safe as the cache write does
    transaction.on_commit(_next_generation)  # and once committed, so every reload finds the row


def remove(key):
    """Take `key` off the list; the cache follows only once the database has committed."""
    Revocation.objects.filter(key=key).delete()
    transaction.on_commit(lambda: _cache_delete(key))
    transaction.on_commit(lambda: mirror.forget(key))
    transaction.on_commit(_next_generation)


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


def is_revoked(jti, client_ids):
    """True when the token or any of its agents is revoked. Raises RevocationUnavailable to fail closed."""
    keys = [jti_key(jti), *(agent_key(client_id) for client_id in client_ids)]
    answer = mirror.answer(keys)
    if answer is not None:
        return answer
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


def _generations():
    return redis_client.client(settings.REDIS_URL) if settings.REDIS_URL else None


def _new_epoch(client):
    # A Redis that came back empty starts the count at a random number, never at one a process
    # may still hold from before (then it would not reload).
    return client.set(GENERATION, secrets.randbits(62), nx=True)


def _next_generation():
    client = _generations()
    if client is not None:
        with contextlib.suppress(redis.RedisError):
            if not _new_epoch(client):
                client.incr(GENERATION)


class _Mirror:
    """This process's copy of the whole list, with the generation it was loaded at."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.revoked, self.generation, self.checked_at = {}, None, float("-inf")

    def note(self, key, expires_at):
        # What this process revokes it refuses at once, before any reload.
        self.revoked[key] = expires_at.timestamp() if expires_at else None

    def forget(self, key):
        # What this process took off the list works again here at once (elsewhere: next reload).
        self.revoked.pop(key, None)

    def answer(self, keys):
        """True or False from the copy, or None when there is no trustworthy copy."""
        client = _generations()
        if client is None:
            return None
        synced = time.monotonic() - self.checked_at <= FRESH_SECONDS or self._sync(client)
        if not synced and time.monotonic() - self.checked_at > STALE_SECONDS:
            return None
        now = time.time()
        return any(key in self.revoked and (self.revoked[key] is None or self.revoked[key] > now) for key in keys)

    def _sync(self, client):
        if not self.lock.acquire(blocking=False):
            return False  # another thread is syncing: the copy serves only while it is recent
        try:
            generation = client.get(GENERATION)
            if generation is None:  # Redis came back empty: a new epoch, and every process reloads
                _new_epoch(client)
                generation = client.get(GENERATION)
            generation = int(generation)
            if generation != self.generation:
                rows = Revocation.objects.exclude(expires_at__lte=timezone.now()).values_list("key", "expires_at")
                self.revoked = {key: (expiry.timestamp() if expiry else None) for key, expiry in rows}
                self.generation = generation
            self.checked_at = time.monotonic()
            return True
        except (redis.RedisError, DatabaseError):
            log.warning("revocation list not refreshed; its copy goes stale in %s s", STALE_SECONDS, exc_info=True)
            return False
        finally:
            self.lock.release()


mirror = _Mirror()
