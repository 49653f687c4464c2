"""Token buckets: atomic in Redis (one Lua script per check), in process on the embedded default.

When Redis cannot answer, each process enforces the same rate with its own buckets: limits never
switch off, and approvals (which must keep working from the database) are not refused wholesale.
Only when even that fails does a check raise RateLimitUnavailable, and the caller answers 503.
"""

import logging
import re
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings

log = logging.getLogger(__name__)
_RATE = re.compile(r"^(\d+)/(s|sec|second|m|min|minute|h|hour)$")
_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}

# KEYS[1] bucket; ARGV: capacity, refill per second, now, cost. Returns {allowed, retry_after_ms}.
_LUA = """
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, wait}
"""


class RateLimitUnavailable(Exception):
    """The limiter's store cannot be reached; the caller answers 503."""


@dataclass(frozen=True)
class Rate:
    capacity: int
    per_seconds: int

    @classmethod
    def parse(cls, text):
        match = _RATE.match(text.replace(" ", ""))
        if not match:
            raise ValueError(f"Rate {text!r}: use e.g. '600/min'")
        return cls(int(match.group(1)), _SECONDS[match.group(2)])

    @property
    def refill(self):
        return self.capacity / self.per_seconds


class Bucket:
    """One token bucket in this process's memory."""

    def __init__(self, rate):
        self.rate, self.tokens, self.at = rate, float(rate.capacity), time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.rate.capacity, self.tokens + (now - self.at) * self.rate.refill)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, 0.0
        return False, (1 - self.tokens) / self.rate.refill


class _LocalBuckets:
    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}

    def take(self, key, rate):
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None or bucket.rate != rate:
                bucket = self.buckets[key] = Bucket(rate)
            return bucket.take()

    def clear(self):
        with self.lock:
            self.buckets.clear()


_local = _LocalBuckets()
_redis = {}


def _client():
    if settings.REDIS_URL not in _redis:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
        _redis[settings.REDIS_URL] = (client, client.register_script(_LUA))
    return _redis[settings.REDIS_URL]


def take(key, rate):
    """Spend one token from bucket `key`; returns (allowed, seconds to wait before retrying)."""
    if isinstance(rate, str):
        rate = Rate.parse(rate)
    if not settings.REDIS_URL:
        return _local.take(key, rate)
    _, script = _client()
    try:
        allowed, wait_ms = script(keys=[f"agentauth:bucket:{key}"], args=[rate.capacity, rate.refill, time.time(), 1])
    except redis.RedisError:
        log.warning("rate limiter: Redis unreachable, enforcing %s per process", rate)
        return _local.take(key, rate)
    return bool(allowed), wait_ms / 1000


def retry_after(buckets, scopes=()):
    """Spend one token from each (kind, key) bucket in turn; return the whole seconds to wait for
    the first that is empty, or None when every one allowed the call."""
    for kind, key in buckets:
        rate = limit_for(kind, scopes)
        if rate is None:
            continue
        allowed, wait = take(key, rate)
        if not allowed:
            return max(1, round(wait))
    return None


def limit_for(kind, scopes=()):
    """The tightest configured rate for `kind` ("agent", "person", "token", "signin", ...)."""
    limits = settings.AGENTAUTH_RATE_LIMITS
    rates = [Rate.parse(limits[scope][kind]) for scope in scopes if kind in limits.get(scope, {})]
    if kind in limits.get("default", {}):
        rates.append(Rate.parse(limits["default"][kind]))
    return min(rates, key=lambda rate: rate.refill) if rates else None


def reset():
    """Forget every local bucket (tests)."""
    _local.clear()
