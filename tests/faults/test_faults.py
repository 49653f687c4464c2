"""Faults injected on the suite's own processes: its own redis-server, Celery workers, beat and
ASGI servers, and once a restart of the machine's PostgreSQL (nothing else touches the machine's
shared services). Nothing lost, nothing let in."""

import json
import signal
import threading
import time

import pytest
import requests
from django.db import connections
from django.test import Client
from websockets.sync.client import connect

from approvals.models import ApprovalRequest
from examples.models import Payment

from ..conftest import OAuthClient, missing_service
from ..servers import (
    RedisServer,
    asgi_process,
    can_restart_postgres,
    celery_beat,
    celery_worker,
    free_port,
    restart_postgres,
    run_command,
    wait_for,
)

pytestmark = [pytest.mark.django_db(transaction=True)]
PAYMENT = {"amount": "42.00", "currency": "EUR", "to": "ACME Ltd", "memo": "drill"}


@pytest.fixture
def own_redis():
    server = RedisServer().start()
    yield server
    server.stop()


def token_for(agent):
    return OAuthClient(Client()).token({"grant_type": "client_credentials"}, agent).json()["access_token"]


def session_for(person, base):
    client = Client()
    client.force_login(person)
    store = client.session
    store["auth_time"] = int(time.time())
    store.save()
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.get(f"{base}/dashboard/")
    session.headers["X-CSRFToken"] = session.cookies.get("csrftoken", "")
    return session


def pay(base, token):
    return requests.post(
        f"{base}/api/v1/payments/", json=PAYMENT, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


@pytest.mark.catalogue("FT-01")
def test_with_redis_down_approvals_are_created_and_decided_and_run_once_it_is_back(own_redis, person_and_agent):
    person, agent = person_and_agent
    token = token_for(agent)
    with asgi_process(REDIS_URL=own_redis.url) as (base, _), celery_worker(REDIS_URL=own_redis.url):
        own_redis.stop()
        asked = pay(base, token)
        revoked_check = requests.get(f"{base}/api/v1/documents/", headers={"Authorization": f"Bearer {token}"})
        approval_id = asked.json()["approval_id"]
        decided = session_for(person, base).post(
            f"{base}/api/v1/approvals/{approval_id}/decision", json={"decision": "approve"}, timeout=10
        )
        ready = requests.get(f"{base}/readyz")
        assert ApprovalRequest.objects.get().status == "approved"  # decided from the database
        assert Payment.objects.count() == 0  # the worker never got it: Redis is down

        own_redis.start()  # same port, empty: nothing queued survived
        swept = run_command("run_sweeps", "--stuck-after", "0", REDIS_URL=own_redis.url)
        assert wait_for(lambda: ApprovalRequest.objects.get().status == "executed"), swept.stdout + swept.stderr

    assert asked.status_code == 202, asked.text
    assert revoked_check.status_code == 200  # the revocation list answered from the database
    assert decided.status_code == 200, decided.text
    assert ready.status_code == 503 and "redis" in ready.json()["down"]
    assert Payment.objects.count() == 1


@pytest.mark.catalogue("FT-01")
def test_with_redis_down_an_agents_long_poll_answers_as_a_plain_poll(own_redis, person_and_agent):
    person, agent = person_and_agent
    token = token_for(agent)
    with asgi_process(REDIS_URL=own_redis.url) as (base, _):
        approval_id = pay(base, token).json()["approval_id"]
        own_redis.stop()
        started = time.monotonic()
        polled = requests.get(
            f"{base}/api/v1/approvals/{approval_id}?wait=20", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        answered_after = time.monotonic() - started

    assert polled.status_code == 200, polled.text  # not a 500: the database answers
    assert polled.json()["status"] == "pending" and answered_after < 10


@pytest.mark.catalogue("FT-01")
def test_a_revoked_token_stays_refused_while_redis_is_down_and_after_it_restarts(own_redis, person_and_agent):
    person, agent = person_and_agent
    token = token_for(agent)
    with asgi_process(REDIS_URL=own_redis.url) as (base, _):
        assert requests.get(f"{base}/api/v1/documents/", headers={"Authorization": f"Bearer {token}"}).ok
        from agentauth.identity import lifecycle

        lifecycle.suspend(agent)  # written to the database (and to the test process's Redis, not theirs)
        own_redis.stop()
        # The server cannot hear of it through Redis: its copy of the list goes untrusted after a
        # second, and the database answers.
        refused_during = wait_for(
            lambda: (
                requests.get(f"{base}/api/v1/documents/", headers={"Authorization": f"Bearer {token}"}).status_code
                == 401
            ),
            timeout=1.5,
        )
        own_redis.start()
        after = requests.get(f"{base}/api/v1/documents/", headers={"Authorization": f"Bearer {token}"})

    assert refused_during and after.status_code == 401


@pytest.mark.catalogue("FT-02")
def test_a_worker_killed_mid_payment_leaves_it_run_exactly_once(own_redis, person_and_agent):
    person, agent = person_and_agent
    token = token_for(agent)
    with asgi_process(REDIS_URL=own_redis.url) as (base, _):
        approval_id = pay(base, token).json()["approval_id"]
        with celery_worker(REDIS_URL=own_redis.url, APPROVAL_EXECUTION_DELAY="4") as worker:
            session_for(person, base).post(
                f"{base}/api/v1/approvals/{approval_id}/decision", json={"decision": "approve"}, timeout=10
            )
            time.sleep(2)  # the worker is now inside the execution transaction, sleeping
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        assert ApprovalRequest.objects.get().status == "approved"  # its transaction died with it
        with celery_worker(REDIS_URL=own_redis.url):
            run_command("run_sweeps", "--stuck-after", "0", REDIS_URL=own_redis.url)
            assert wait_for(lambda: ApprovalRequest.objects.get().status == "executed")
            run_command("run_sweeps", "--stuck-after", "0", REDIS_URL=own_redis.url)  # and once more
            time.sleep(1)

    assert Payment.objects.count() == 1


@pytest.mark.catalogue("FT-06")
def test_a_killed_asgi_process_loses_no_pending_approval(own_redis, person_and_agent):
    person, agent = person_and_agent
    token = token_for(agent)
    port = free_port()
    cookie = f"sessionid={session_for_cookie(person)}"
    with (
        asgi_process(port=port, REDIS_URL=own_redis.url) as (base, process),
        connect(
            base.replace("http", "ws") + "/ws/approvals/",
            additional_headers={"Cookie": cookie, "Origin": base},
            open_timeout=5,
        ),
    ):
        approval_id = pay(base, token).json()["approval_id"]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    with (
        asgi_process(port=port, REDIS_URL=own_redis.url) as (base, _),
        connect(
            base.replace("http", "ws") + "/ws/approvals/",
            additional_headers={"Cookie": cookie, "Origin": base},
            open_timeout=5,
        ) as again,
    ):
        event = json.loads(again.recv(timeout=5))

    assert event["type"] == "approval.created" and event["approval"]["id"] == approval_id


def session_for_cookie(person):
    client = Client()
    client.force_login(person)
    return client.cookies["sessionid"].value


@pytest.mark.catalogue("FT-04")
def test_terminated_database_connections_leave_no_half_states(requires_postgres, person_and_agent, settings):
    person, agent = person_and_agent
    # The pool backs off between failed checks; a shorter wait turns those into quick 503s.
    with asgi_process(PGAPPNAME="agentauth-drill", DATABASE_POOL_TIMEOUT="5") as (base, _):
        token = token_for(agent)
        stop = threading.Event()

        def terminate_connections():
            with connections["default"].cursor() as cursor:
                while not stop.is_set():
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = 'agentauth-drill'"
                    )
                    time.sleep(0.3)
            connections["default"].close()

        killer = threading.Thread(target=terminate_connections)
        killer.start()
        statuses, created = [], []
        session = session_for(person, base)
        try:
            for _ in range(10):
                try:
                    asked = pay(base, token)
                    statuses.append(asked.status_code)
                    if asked.status_code != 202:
                        continue
                    approval_id = asked.json()["approval_id"]
                    decided = session.post(
                        f"{base}/api/v1/approvals/{approval_id}/decision", json={"decision": "deny"}, timeout=30
                    )
                except requests.RequestException:
                    continue  # no answer at all: the person was told nothing, so nothing is asserted
                statuses.append(decided.status_code)
                created.append((approval_id, decided.status_code))
        finally:
            stop.set()
            killer.join()

    assert 500 not in statuses and set(statuses) <= {200, 202, 401, 503}, statuses
    for approval_id, decided in created:
        status = ApprovalRequest.objects.get(pk=approval_id).status
        # Told "denied" means denied; told "try again" means nothing was recorded.
        assert (decided == 200) == (status == "denied"), (decided, status)


@pytest.mark.catalogue("FT-01")
def test_redis_killed_then_postgres_restarted_under_the_production_shape_loses_no_approval(own_redis, person_and_agent):
    """Web, worker and beat against one Redis that is SIGKILLed and comes back empty, then a
    PostgreSQL restart: every process stays up, the work approved around the outages runs exactly
    once without anyone's help (beat's sweep re-sends it), and /readyz recovers by itself."""
    if not can_restart_postgres():
        missing_service("restarting PostgreSQL needs the local cluster, pg_ctlcluster and root")
    person, agent = person_and_agent
    token = token_for(agent)
    fast_sweeps = {"REDIS_URL": own_redis.url, "AGENTAUTH_SWEEP_SECONDS": "1", "AGENTAUTH_STUCK_SECONDS": "2"}
    with (
        asgi_process(**fast_sweeps) as (base, web),
        celery_worker(**fast_sweeps) as worker,
        celery_beat(**fast_sweeps) as beat,
    ):
        person_session = session_for(person, base)

        def approve(approval_id):
            return person_session.post(
                f"{base}/api/v1/approvals/{approval_id}/decision", json={"decision": "approve"}, timeout=10
            )

        before = pay(base, token).json()["approval_id"]
        approve(before)
        assert wait_for(lambda: ApprovalRequest.objects.get(pk=before).status == "executed")

        own_redis.kill()
        during = pay(base, token).json()["approval_id"]
        approved_during = approve(during)
        asked_during_decided_after = pay(base, token).json()["approval_id"]
        readiness_during = requests.get(f"{base}/readyz").status_code
        time.sleep(5)  # long enough for the worker's and beat's connections to fail and retry

        own_redis.start()  # same port, nothing in it: every queued message is gone
        approve(asked_during_decided_after)
        settled = wait_for(
            lambda: set(ApprovalRequest.objects.values_list("status", flat=True)) == {"executed"}, timeout=60
        )
        readiness_after = wait_for(lambda: requests.get(f"{base}/readyz").status_code == 200)

        approve(pay(base, token).json()["approval_id"])  # the worker may be running it as the database goes
        asked_before_restart = pay(base, token).json()["approval_id"]
        restart_postgres()
        approve(asked_before_restart)
        settled_again = wait_for(
            lambda: set(ApprovalRequest.objects.values_list("status", flat=True)) == {"executed"}, timeout=90
        )
        ready_again = wait_for(lambda: requests.get(f"{base}/readyz").status_code == 200)
        alive = {"web": web.poll(), "worker": worker.poll(), "beat": beat.poll()}

    assert approved_during.status_code == 200
    assert readiness_during == 503 and readiness_after and ready_again
    assert settled and settled_again, list(ApprovalRequest.objects.values_list("status", flat=True))
    assert alive == {"web": None, "worker": None, "beat": None}
    assert Payment.objects.count() == 5
    assert Payment.objects.values("approval").distinct().count() == 5
