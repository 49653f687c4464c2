"""Rate-limit buckets in Redis: leases for busy buckets, and the limit held across processes."""

import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings

from agentauth.lib import ratelimit

needs_redis = pytest.mark.usefixtures("redis_url")


def round_trips():
    stats = redis.Redis.from_url(settings.REDIS_URL).info("commandstats")
    return stats.get("cmdstat_evalsha", {}).get("calls", 0)


def tokens_left(key, rate):
    raw = redis.Redis.from_url(settings.REDIS_URL).hget(f"agentauth:bucket:{key}:{rate}", "tokens")
    return float(raw)


@needs_redis
def test_a_busy_bucket_is_spent_from_leases_with_few_round_trips():
    key = f"busy-{uuid.uuid4()}"
    before = round_trips()

    allowed = sum(ratelimit.take(key, "2000/min")[0] for _ in range(200))

    assert allowed == 200
    # Leases of 1, 2, 4, 8, 16, then 32 (at most a twentieth of the bucket): 11 round trips.
    assert round_trips() - before <= 15


@needs_redis
def test_a_tight_limit_is_checked_on_every_call():
    key = f"tight-{uuid.uuid4()}"
    before = round_trips()

    statuses = [ratelimit.take(key, "30/min")[0] for _ in range(31)]

    assert statuses == [True] * 30 + [False]
    assert round_trips() - before >= 31  # one per call (the count is server-wide: never fewer)


@needs_redis
def test_a_lease_that_expires_unspent_is_dropped_and_the_next_is_half_as_big():
    key = f"idle-{uuid.uuid4()}"
    for _ in range(1 + 2 + 4 + 8 + 1):  # leases of 1, 2, 4 and 8 spent in time, then one of 16
        ratelimit.take(key, "3600/hour")
    left, since = tokens_left(key, "3600/3600s"), time.monotonic()  # 15 of those 16 leased, unspent
    time.sleep(ratelimit.LEASE_SECONDS + 0.1)

    ratelimit.take(key, "3600/hour")

    # The 15 are dropped, and the next lease is 8, not 32: what the bucket lost, plus the token a
    # second it refilled meanwhile.
    refilled = time.monotonic() - since
    assert round(left - tokens_left(key, "3600/3600s") + refilled) == 8


@needs_redis
@pytest.mark.catalogue("RL-02")
def test_processes_sharing_a_bucket_never_spend_more_than_it_holds():
    key = f"shared-{uuid.uuid4()}"
    program = (
        "import django; django.setup()\n"
        "from agentauth.lib import ratelimit\n"
        f"print(sum(ratelimit.take({key!r}, '600/min')[0] for _ in range(400)))\n"
    )
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "agentauth.settings", "REDIS_URL": settings.REDIS_URL}
    started = time.monotonic()
    processes = [
        subprocess.Popen([sys.executable, "-c", program], env=env, stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    allowed = [int(process.communicate(timeout=60)[0]) for process in processes]
    refilled = (time.monotonic() - started) * 600 / 60

    assert sum(allowed) <= 600 + refilled + 1
    # A process may end holding a lease it did not spend: at most a twentieth of the bucket, less one.
    assert sum(allowed) >= 600 - 3 * (600 // 20 - 1)


@needs_redis
@pytest.mark.catalogue("RL-03")
def test_a_tighter_limit_on_some_calls_does_not_shrink_the_bucket_of_the_others(settings):
    settings.AGENTAUTH_RATE_LIMITS = {"default": {"agent": "100/min"}, "payments:execute": {"agent": "3/min"}}
    buckets = [("agent", f"api:agent:{uuid.uuid4()}")]

    payments = [ratelimit.retry_after(buckets, ["payments:execute"]) is None for _ in range(4)]
    reads = [ratelimit.retry_after(buckets, ["documents:read"]) is None for _ in range(50)]

    assert payments == [True, True, True, False]
    assert all(reads)  # one bucket per rate: the payments' 3/min did not clamp the agent's 100/min


@pytest.mark.catalogue("RL-02")
def test_without_redis_alternating_rates_does_not_refill_a_bucket(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.AGENTAUTH_RATE_LIMITS = {"default": {"agent": "5/min"}, "payments:execute": {"agent": "2/min"}}
    buckets = [("agent", f"api:agent:{uuid.uuid4()}")]

    allowed = [ratelimit.retry_after(buckets, [scope]) is None for scope in ["documents:read", "payments:execute"] * 5]

    # Each process's own buckets, one per rate: 5 reads and 2 payments, not a fresh bucket per switch.
    assert allowed == [True, True, True, True, True, False, True, False, True, False]
