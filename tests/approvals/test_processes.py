"""The production shape: two ASGI processes on the Redis channel layer, a real Celery worker,
real PostgreSQL row locks under concurrent decisions."""

import json
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import connections
from django.test import Client
from django.utils import timezone
from websockets.sync.client import connect

from approvals import services
from approvals.models import AlreadyDecided, ApprovalRequest
from examples.models import Payment
from examples.payments import PAY

from ..servers import asgi_server, celery_worker
from .test_payments_flow import pay

pytestmark = [pytest.mark.django_db(transaction=True)]
PAYMENT = {"amount": "120.00", "currency": "EUR", "to": "ACME Ltd", "memo": "Invoice 42"}


def signed_in_cookies(user):
    client = Client()
    client.force_login(user)
    session = client.session
    session["auth_time"] = int(time.time())
    session.save()
    return {"sessionid": client.cookies["sessionid"].value}


def csrf_session(base, cookies):
    session = requests.Session()
    session.cookies.update(cookies)
    session.get(f"{base}/dashboard/")
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def open_feed(base, cookies):
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return connect(
        base.replace("http", "ws") + "/ws/approvals/",
        additional_headers={"Cookie": cookie, "Origin": base},
        open_timeout=5,
    )


def next_event(socket, wanted, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = json.loads(socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        if event["type"] == wanted:
            return event
    raise AssertionError(f"no {wanted} within {timeout} s")


def parked_long_poll(base, token, approval_id, wait):
    """Start the agent's long-poll in a thread; returns (thread, its JSON answers) once it is parked."""
    answers = []
    waiting = threading.Thread(
        target=lambda: answers.append(
            requests.get(
                f"{base}/api/v1/approvals/{approval_id}?wait={wait}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=wait + 10,
            ).json()
        )
    )
    waiting.start()
    time.sleep(0.5)
    return waiting, answers


def test_a_decision_through_one_process_reaches_a_socket_on_the_other(redis_url, alice, pay_token):
    cookies = signed_in_cookies(alice)
    with asgi_server() as first, asgi_server() as second, open_feed(second, cookies) as feed:
        started = time.monotonic()
        asked = requests.post(
            f"{first}/api/v1/payments/", json=PAYMENT, headers={"Authorization": f"Bearer {pay_token}"}
        )
        assert asked.status_code == 202, asked.text
        created = next_event(feed, "approval.created")
        pushed_after = time.monotonic() - started
        approval_id = asked.json()["approval_id"]
        assert created["approval"]["id"] == approval_id

        waiting, answers = parked_long_poll(second, pay_token, approval_id, wait=20)
        decided_at = time.monotonic()
        decision = csrf_session(first, cookies).post(
            f"{first}/api/v1/approvals/{approval_id}/decision", json={"decision": "approve"}
        )
        updated = next_event(feed, "approval.updated")
        waiting.join(timeout=25)
        answered_after = time.monotonic() - decided_at

    assert decision.status_code == 200, decision.text
    assert updated["approval"]["status"] == "approved"
    assert answers and answers[0]["status"] in ("approved", "executed")
    assert pushed_after < 2 and answered_after < 2


@pytest.mark.catalogue("AU-04", "FT-02")
def test_a_real_worker_executes_the_approved_payment_exactly_once(redis_url, alice, payer, settings):
    from agentauth.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    approval, _ = services.request_approval(
        user=alice,
        agent=payer,
        action=PAY,
        params={**PAYMENT},
    )
    with celery_worker():
        services.decide(approval, approve=True, by=alice)
        services.requeue_stuck(older_than=timedelta(0))  # a duplicate delivery, on purpose
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and ApprovalRequest.objects.get().status != "executed":
            time.sleep(0.2)
        time.sleep(1)  # let the duplicate run too

    assert ApprovalRequest.objects.get().status == "executed"
    assert Payment.objects.count() == 1


@pytest.mark.catalogue("AP-01")
def test_twenty_concurrent_decisions_have_exactly_one_winner(requires_postgres, live_server, alice, payer):
    approval, _ = services.request_approval(
        user=alice,
        agent=payer,
        action=PAY,
        params={**PAYMENT},
    )
    cookies = signed_in_cookies(alice)
    sessions = [csrf_session(live_server.url, cookies) for _ in range(2)]
    barrier = threading.Barrier(20)
    statuses = []

    def decide(index):
        barrier.wait()
        response = sessions[index % 2].post(
            f"{live_server.url}/api/v1/approvals/{approval.pk}/decision",
            json={"decision": "approve" if index % 2 else "deny"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=decide, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [409] * 19
    final = ApprovalRequest.objects.get()
    assert final.status in ("executed", "denied")
    assert Payment.objects.count() == (1 if final.status == "executed" else 0)


@pytest.mark.catalogue("AP-06")
def test_expiry_boundary_race_has_one_outcome_every_time(requires_postgres, alice, payer):
    outcomes = []
    for _ in range(15):
        approval, _ = services.request_approval(
            user=alice,
            agent=payer,
            action=PAY,
            params={**PAYMENT},
            ttl=timedelta(milliseconds=150),
        )
        barrier = threading.Barrier(2)

        def sweep():
            barrier.wait()
            end = time.monotonic() + 0.4
            try:
                while time.monotonic() < end:
                    services.expire_overdue()
            finally:
                connections.close_all()  # give the pooled connection back

        def approve(approval=approval):
            barrier.wait()
            time.sleep(0.14)
            try:
                services.decide(ApprovalRequest.objects.get(pk=approval.pk), approve=True, by=alice)
            except AlreadyDecided:
                pass  # losing the race to the sweep is one of the two allowed outcomes
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sweep), threading.Thread(target=approve)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        approval.refresh_from_db()
        paid = Payment.objects.filter(approval=approval).count()
        outcomes.append(approval.status)
        assert (approval.status, paid) in (("executed", 1), ("expired", 0)), (approval.status, paid)
    assert ApprovalRequest.objects.filter(status="pending", expires_at__lte=timezone.now()).count() == 0


def test_a_parked_long_poll_answers_from_the_pushed_view_without_a_query(redis_url, alice, pay_token):
    """The view a push carries is what the agent gets: here it differs from the database on
    purpose (nothing committed a decision), which only an answer from the push can return."""
    from approvals.cards import agent_view
    from approvals.groups import approval_group
    from live.events import send

    approval_id = pay(pay_token).json()["approval_id"]
    approval = ApprovalRequest.objects.get(pk=approval_id)
    view = agent_view(approval) | {"status": "denied", "reason": "pushed"}
    with asgi_server() as base:
        waiting, answers = parked_long_poll(base, pay_token, approval_id, wait=20)
        send(approval_group(approval_id), {"type": "approval.event", "event": "approval.updated", "view": view})
        waiting.join(timeout=10)

    assert answers == [view]


def test_a_push_without_a_view_of_this_approval_sends_the_long_poll_to_the_database(redis_url, alice, pay_token):
    from approvals.groups import approval_group
    from live.events import send

    approval_id = pay(pay_token).json()["approval_id"]
    other = {"approval_id": "someone-else", "status": "denied"}
    with asgi_server() as base:
        waiting, answers = parked_long_poll(base, pay_token, approval_id, wait=2)
        send(approval_group(approval_id), {"type": "approval.event", "event": "approval.updated"})
        send(approval_group(approval_id), {"type": "approval.event", "event": "approval.updated", "view": other})
        waiting.join(timeout=10)

    assert [answer["status"] for answer in answers] == ["pending"]  # held until `wait` ran out
