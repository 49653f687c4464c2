import time
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone

from agentauth.consent import grants
from agentauth.identity.models import Agent
from agentauth.monitoring import activity
from agentauth.monitoring.models import ActivityMinute, Alert, PersonSettings, ScopeUse

from ..conftest import with_rate
from ..servers import wait_for


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def token(oauth, cc_agent):
    return oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]


def call(token, times=1, **headers):
    client = Client()
    return [client.get("/api/v1/documents/", **bearer(token), **headers).status_code for _ in range(times)]


def flush_now():
    return activity.flush(now=time.time() + 120)


def test_api_calls_are_counted_per_minute_not_per_row(token, cc_agent, alice):
    call(token, 7)
    flush_now()

    row = ActivityMinute.objects.get()
    assert row.client_id == cc_agent.client_id and row.user == alice and row.calls == 7
    assert ScopeUse.objects.get().scope == "documents:read"


def test_normal_traffic_raises_nothing(token):
    call(token, 10)
    flush_now()

    assert not Alert.objects.exists()


def test_a_rate_spike_raises_an_alert(token, cc_agent, settings):
    call(token, 61)
    flush_now()

    alert = Alert.objects.get(rule="rate_spike")
    assert alert.agent == cc_agent and alert.evidence["calls"] == 61


def test_a_burst_of_refused_calls_suspends_the_agent(token, cc_agent, alice, django_capture_on_commit_callbacks):
    call(token)
    grants.revoke_grant(alice, cc_agent)
    assert set(call(token, 20)) == {401}
    flush_now()

    alert = Alert.objects.get(rule="refusal_burst")
    assert alert.severity == "high" and alert.agent_suspended
    assert Agent.objects.get(pk=cc_agent.pk).status == "suspended"


def test_calls_in_unusual_hours_raise_an_alert(token, alice):
    PersonSettings.objects.create(user=alice, unusual_hours=list(range(24)))

    call(token)
    flush_now()

    assert Alert.objects.filter(rule="unusual_hours").exists()


def test_a_new_ip_address_raises_an_alert_but_the_first_one_does_not(token):
    call(token, REMOTE_ADDR="10.1.1.1")
    call(token, REMOTE_ADDR="10.1.1.1")
    assert not Alert.objects.exists()

    call(token, REMOTE_ADDR="10.9.9.9")

    alert = Alert.objects.get(rule="new_origin")
    assert "10.9.9.9" in alert.summary


def test_repeated_denials_raise_an_alert(alice, payer, django_capture_on_commit_callbacks):
    from approvals import services
    from examples.payments import PAY

    for _ in range(3):
        approval, _ = services.request_approval(
            user=alice,
            agent=payer,
            action=PAY,
            params={"amount": "5.00", "currency": "EUR", "to": "x", "memo": ""},
        )
        with django_capture_on_commit_callbacks(execute=True):  # the rule runs after the decision commits
            services.decide(approval, approve=False, by=alice)

    assert Alert.objects.filter(rule="repeated_denials", agent=payer).count() == 1


def test_the_same_alert_is_not_raised_twice_in_an_hour(token):
    call(token, 61)
    flush_now()
    call(token, 61)
    activity.flush(now=time.time() + 240)

    assert Alert.objects.filter(rule="rate_spike").count() == 1


@pytest.mark.catalogue("RL-02")
def test_the_api_answers_429_with_retry_after_past_the_agents_limit(token, settings):
    settings.AGENTAUTH_RATE_LIMITS = {"default": {"agent": "3/min"}}

    statuses = call(token, 4)
    response = Client().get("/api/v1/documents/", **bearer(token))

    assert statuses == [200, 200, 200, 429]
    assert int(response["Retry-After"]) >= 1


@pytest.mark.catalogue("RL-02")
def test_the_token_endpoint_is_rate_limited(oauth, cc_agent, settings):
    settings.AGENTAUTH_RATE_LIMITS = {"default": {"token": "2/min"}}

    statuses = [oauth.token({"grant_type": "client_credentials"}, cc_agent).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


@pytest.mark.catalogue("RL-01")
def test_password_guessing_is_throttled(alice, settings):
    slow_refill(settings, "signin")
    client = Client()
    statuses = [
        client.post("/accounts/login/", {"username": "alice", "password": f"guess-{n}"}).status_code for n in range(12)
    ]

    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]


@pytest.mark.catalogue("DF-02")
def test_user_code_guessing_is_throttled(alice, settings):
    slow_refill(settings, "device_code")
    client = Client()
    client.force_login(alice)

    statuses = [client.post("/device/", {"user_code": f"GUESS{n:03d}"}).status_code for n in range(12)]

    assert statuses[-1] == 429 and statuses.count(400) == 10


def slow_refill(settings, kind):
    """The same burst of 10, refilled per hour: on a loaded machine twelve sign-ins (PBKDF2 each)
    can take long enough for a per-minute bucket to refill, and the test would measure the CPU."""
    with_rate(settings, kind, "10/hour")


@pytest.mark.catalogue("FT-01")
def test_rate_limits_still_bind_when_redis_is_down(token, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.AGENTAUTH_RATE_LIMITS = {"default": {"agent": "2/min"}}

    statuses = call(token, 3)

    assert statuses == [200, 200, 429]  # never unlimited: each process keeps its own buckets


def test_activity_older_than_an_hour_is_not_the_baseline(token, cc_agent, alice):
    ActivityMinute.objects.create(
        client_id=cc_agent.client_id, user=alice, calls=10_000, minute=timezone.now() - timedelta(hours=3)
    )
    call(token, 61)
    flush_now()

    assert Alert.objects.filter(rule="rate_spike").exists()


def test_calls_are_counted_off_the_request_path_in_few_writes(redis_url, token, monkeypatch):
    store = redis.Redis.from_url(redis_url, decode_responses=True)
    written = []
    real_hincrby = redis.client.Pipeline.hincrby
    monkeypatch.setattr(
        redis.client.Pipeline, "hincrby", lambda self, *args: written.append(args) or real_hincrby(self, *args)
    )

    first_minute = int(time.time() // 60)
    call(token, 20)

    def counted():  # the calls may straddle a minute, and the pusher may write them in two goes
        minutes = range(first_minute, int(time.time() // 60) + 1)
        return sum(int(count) for minute in minutes for count in store.hgetall(f"{activity.ACTIVITY}{minute}").values())

    wait_for(lambda: counted() == 20, timeout=5)  # the process's pusher, not the calls, writes them
    assert counted() == 20
    assert sum(args[2] for args in written) == 20 and len(written) <= 3  # the calls share a few HINCRBYs
    assert store.hlen(activity.SCOPE_USE) == 1


def test_what_could_not_be_written_is_written_by_the_next_push(redis_url, token, monkeypatch):
    store = redis.Redis.from_url(redis_url, decode_responses=True)
    real_execute = redis.client.Pipeline.execute

    def fails(self, *args, **kwargs):
        raise redis.ConnectionError("redis blinked")

    monkeypatch.setattr(redis.client.Pipeline, "execute", fails)
    assert call(token, 2) == [200, 200]  # monitoring fails open: the calls themselves succeed
    activity._pending.push()
    monkeypatch.setattr(redis.client.Pipeline, "execute", real_execute)
    activity._pending.push()

    counters = store.hgetall(f"{activity.ACTIVITY}{int(time.time() // 60)}")
    assert sum(int(count) for count in counters.values()) == 2
    assert store.hlen(activity.SCOPE_USE) == 1
