"""Two beats, one schedule: only the holder of the Redis lease sends scheduled tasks."""

import pytest

from agentauth.celery import app
from agentauth.lib import beat, redis_client


@pytest.fixture
def schedulers(redis_url, tmp_path):
    redis_client.client(redis_url).delete(beat.LEASE_KEY)
    made = []
    for name in ("a", "b"):
        scheduler = beat.SingleBeat(app=app, schedule_filename=str(tmp_path / name), lazy=True)
        scheduler.identity = name
        made.append(scheduler)
    yield made
    redis_client.client(redis_url).delete(beat.LEASE_KEY)


def test_only_the_lease_holder_runs_the_schedule_and_the_other_takes_over(schedulers, redis_url):
    first, second = schedulers
    assert first._hold_lease() and not second._hold_lease()
    assert first._hold_lease()  # renewing its own lease
    redis_client.client(redis_url).delete(beat.LEASE_KEY)  # the holder crashed and its lease lapsed
    assert second._hold_lease() and not first._hold_lease()


def test_a_beat_without_the_lease_sends_nothing(schedulers, monkeypatch):
    first, second = schedulers
    sent = []
    monkeypatch.setattr(beat.PersistentScheduler, "tick", lambda self, *a, **k: sent.append(self.identity) or 1.0)
    first.tick()
    second.tick()
    assert sent == ["a"]
