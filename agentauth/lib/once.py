"""Things that may happen only once (a DPoP proof, a client assertion): remembered by key."""

import hashlib

from django.conf import settings
from django.core.cache import cache

from . import redis_client


def first_use(kind, *parts, seconds):
    """True the first time these parts are seen within `seconds`, False after. Raises whatever the
    store raises when it cannot answer: callers refuse then (fail closed)."""
    key = f"agentauth:{kind}:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    if settings.REDIS_URL:  # one SET NX on the request path's client (the cache layer cost twice that)
        return bool(redis_client.client(settings.REDIS_URL).set(key, 1, nx=True, ex=seconds))
    return cache.add(key, 1, timeout=seconds)  # the embedded default: one process
