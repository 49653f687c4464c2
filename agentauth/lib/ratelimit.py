"""Token buckets: atomic in Redis (one Lua script per check), in process on the embedded default.

A process that spends from a bucket often takes several tokens at once and spends them without
asking again (a lease), so a busy agent's calls mostly make no round trip. The bucket in Redis
still holds the limit across processes: no process spends a token it did not take from it. A
lease starts at one token (a check per call, exact) and doubles each time the process spends all
of one before it expires, up to LEASE_MAX and a twentieth of the bucket; one that expires unspent
is dropped and the next is half its size. So a process holds back at most a twentieth of a bucket
for at most LEASE_SECONDS, and only from a bucket it is spending fast; tight limits (under 40 per
period) are always checked per call.

When Redis cannot answer, each process enforces the same rate with its own buckets: limits never
switch off, and approvals (which must keep working from the database) are not refused wholesale.
Only when even that fails does a check raise RateLimitUnavailable, and the caller answers 503.
"""

import functools
import logging
import re
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from . import metrics, redis_client
from .text import account_key

log = logging.getLogger(__name__)
_RATE = re.compile(r"^(\d+)/(s|sec|second|m|min|minute|h|hour)$")
_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}

# KEYS: the buckets, spent in turn, then optionally a version key to read; ARGV: now, then
# capacity, refill per second and tokens wanted (at least one) for each bucket. Each bucket gives
# what it holds up to what is wanted. Returns {0, 0, version, given...} when every bucket gave,
# else {index of the first empty one, ms to wait, '', given...}; the buckets before it stay
# spent, exactly as checking them one by one would leave them. The version is the value of the
# version key ('' without one), set first to one no earlier epoch of the key held (the server's
# clock in microseconds) when it is missing, e.g. after Redis restarted empty.
_LUA = """
local now = tonumber(ARGV[1])
local buckets = (#ARGV - 1) / 3
local given = {}
for i = 1, buckets do
  local key = KEYS[i]
  local capacity = tonumber(ARGV[3 * i - 1])
  local rate = tonumber(ARGV[3 * i])
  local wanted = tonumber(ARGV[3 * i + 1])
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or capacity
  local at = tonumber(bucket[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  local give = math.min(wanted, math.floor(tokens))
  tokens = tokens - give
  redis.call('HSET', key, 'tokens', tokens, 'at', now)
  redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000) + 1000)
  if give < 1 then return {i, math.ceil((1 - tokens) / rate * 1000), '', unpack(given)} end
  given[i] = give
end
local version = KEYS[buckets + 1]
if not version then return {0, 0, '', unpack(given)} end
local value = redis.call('GET', version)
if not value then
  local clock = redis.call('TIME')
  value = string.format('%s%06d', clock[1], clock[2])
  redis.call('SET', version, value)
end
return {0, 0, value, unpack(given)}
"""
LEASE_SECONDS = 1.0
LEASE_MAX = 32


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
            if bucket is None:
                bucket = self.buckets[key] = Bucket(rate)
            return bucket.take()

    def clear(self):
        with self.lock:
            self.buckets.clear()


_local = _LocalBuckets()


class _Lease:
    __slots__ = ("size", "left", "until")

    def __init__(self, size, left, until):
        self.size, self.left, self.until = size, left, until


class _Leases:
    """The tokens this process took from Redis buckets and has not spent yet (see the module's doc)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.leases = {}

    def take(self, key, rate, now):
        """Spend one leased token of bucket `key` and return 0; or, with none to spend, return
        how many to ask the bucket for: one to start with; twice the last lease when it is spent
        before it expires, as many when it was spent by then, half when some expired."""
        most = max(1, min(LEASE_MAX, rate.capacity // 20))
        with self.lock:
            lease = self.leases.get(key)
            if lease is None:
                return 1
            if lease.left >= 1 and now < lease.until:
                lease.left -= 1
                return 0
            if lease.left >= 1:
                return max(1, min(most, lease.size // 2))
            return min(most, lease.size * 2 if now < lease.until else lease.size)

    def keep(self, key, size, given, now):
        """Keep what a bucket gave beyond the token spent now, until LEASE_SECONDS from now."""
        with self.lock:
            if len(self.leases) > 10_000:  # keys are per agent, person and address: forget the idle ones
                self.leases = {name: lease for name, lease in self.leases.items() if now < lease.until}
            self.leases[key] = _Lease(size, given - 1, now + LEASE_SECONDS)

    def clear(self):
        with self.lock:
            self.leases.clear()


_leases = _Leases()


@functools.cache
def _script(url):
    return redis_client.client(url).register_script(_LUA)


def take(key, rate):
    """Spend one token from bucket `key`; returns (allowed, seconds to wait before retrying)."""
    wait, _ = _spend([(key, Rate.parse(rate) if isinstance(rate, str) else rate)])
    return wait is None, wait or 0.0


def retry_after(buckets, scopes=()):
    """Spend one token from each (kind, key) bucket in turn, in one Redis round trip; return the
    whole seconds to wait for the first that is empty, or None when every one allowed the call."""
    return retry_after_reading(None, buckets, scopes)[0]


def retry_after_reading(version_key, buckets, scopes=()):
    """`retry_after`, and the value of the Redis key `version_key` read in the same round trip: a
    version a process's cache is checked against (see the script). The value is None when the
    call was refused or Redis did not answer."""
    limited = [(key, rate) for kind, key in buckets if (rate := limit_for(kind, scopes)) is not None]
    wait, version = _spend(limited, version_key) if limited or version_key else (None, None)
    if wait is None:
        return None, version
    metrics.RATE_LIMITED.labels(bucket=buckets[0][0]).inc()
    return max(1, round(wait)), None


def password_checks(account, ip):
    """The buckets every password check spends from (sign-in, re-authentication, and any later
    password or passkey check): one per account however its name is spelled, one per client IP."""
    return (("signin", f"signin:user:{account_key(account)}"), ("signin_ip", f"signin:ip:{ip}"))


def _spend(limited, version_key=None):
    """(Seconds to wait for the first empty bucket of `limited` ((key, Rate) pairs) or None, the
    value of `version_key` or None). Each rate has a bucket of its own under a key: a call with a
    tighter rate (a payment's) never clamps the bucket its other calls spend from. Leased tokens
    are spent first, so a call one bucket refuses may have spent a leased token of another."""
    limited = [(f"{key}:{rate.capacity}/{rate.per_seconds}s", rate) for key, rate in limited]
    if settings.REDIS_URL:
        now = time.monotonic()
        asked = [(key, rate, wanted) for key, rate in limited if (wanted := _leases.take(key, rate, now))]
        if not asked and version_key is None:
            return None, None
        args = [time.time()]
        for _, rate, wanted in asked:
            args += [rate.capacity, rate.refill, wanted]
        keys = [f"agentauth:bucket:{key}" for key, _, _ in asked] + ([version_key] if version_key else [])
        try:
            empty, wait_ms, version, *given = _script(settings.REDIS_URL)(keys=keys, args=args)
        except redis.RedisError:
            log.warning("rate limiter: Redis unreachable, enforcing the limits per process")
            limited = [(key, rate) for key, rate, _ in asked]
        else:
            for (key, _, wanted), count in zip(asked, given, strict=False):
                _leases.keep(key, wanted, count, now)
            return (wait_ms / 1000 if empty else None), (version or None)
    for key, rate in limited:
        allowed, wait = _local.take(key, rate)
        if not allowed:
            return wait, None
    return None, None


def limit_for(kind, scopes=()):
    """The tightest configured rate for `kind` ("agent", "person", "token", "signin", ...)."""
    return _tightest(settings.AGENTAUTH_RATE_LIMITS, kind, tuple(scopes))


class _Tightest:
    """The tightest rate per (kind, scopes), worked out once per configuration (the settings'
    dict, told apart by identity: an override brings a new dict), so a call parses no rate."""

    def __init__(self):
        self.limits, self.answers = None, {}

    def __call__(self, limits, kind, scopes):
        if limits is not self.limits:
            self.limits, self.answers = limits, {}
        key = (kind, scopes)
        if key not in self.answers:
            rates = [Rate.parse(limits[scope][kind]) for scope in scopes if kind in limits.get(scope, {})]
            if kind in limits.get("default", {}):
                rates.append(Rate.parse(limits["default"][kind]))
            self.answers[key] = min(rates, key=lambda rate: rate.refill) if rates else None
        return self.answers[key]


_tightest = _Tightest()


def reset():
    """Forget every local bucket and lease (tests)."""
    _local.clear()
    _leases.clear()
