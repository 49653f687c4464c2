"""Web Push: subscriptions, encrypted and signed pushes, gone subscriptions, retries then e-mail."""

import json
import time

import pytest
from django.core import mail
from django.test import Client

from live.models import PushSubscription

from ..push_service import PushService, ask_to_pay, b64
from ..servers import celery_worker, output_of


@pytest.fixture
def person(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/devices/")  # sets the CSRF cookie, as the page does
    return client


def subscribe(person, endpoint, keys):
    return person.post(
        "/api/v1/push/subscriptions",
        json.dumps({"endpoint": endpoint, "expirationTime": None, "keys": keys}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=person.cookies["csrftoken"].value,
    )


def test_a_new_approval_reaches_the_subscribed_phone_encrypted_and_signed(
    person, push_service, alice, payer, settings, django_capture_on_commit_callbacks
):
    assert subscribe(person, push_service, PushService.browser.keys()).status_code == 201

    with django_capture_on_commit_callbacks(execute=True):
        approval = ask_to_pay(alice, payer)

    [push] = PushService.received
    assert push["scheme"] == "vapid" and push["claims"]["sub"] == settings.AGENTAUTH_VAPID_SUBJECT
    assert push["headers"]["urgency"] == "high" and 0 < int(push["headers"]["ttl"]) <= 15 * 60
    message = push["message"]
    assert message["approval_id"] == approval.pk
    assert "Payment bot" in message["title"] and "250.00 EUR" in message["body"] and "ACME Ltd" in message["body"]
    assert message["url"] == f"{settings.AGENTAUTH_ISSUER}/approvals/{approval.pk}/"
    assert message["actions"] == ["review", "deny"]  # high risk: approving needs the page and a step-up
    assert mail.outbox == []  # the phone got it: no e-mail on top


def test_a_gone_subscription_is_removed_and_the_person_gets_an_e_mail(
    person, push_service, alice, payer, django_capture_on_commit_callbacks
):
    subscribe(person, push_service, PushService.browser.keys())
    PushService.answer = 410

    with django_capture_on_commit_callbacks(execute=True):
        ask_to_pay(alice, payer)

    assert PushSubscription.objects.count() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_push_service_is_retried_by_a_real_worker_then_e_mail_takes_over(
    redis_url, person, push_service, alice, payer
):
    from agentauth.celery import app

    subscribe(person, push_service, PushService.browser.keys())
    PushService.answer = 503
    app.conf.task_always_eager = False
    app.control.purge()
    worker_env = {
        "REDIS_URL": redis_url,
        "AGENTAUTH_PUSH_RETRIES": "2",
        "AGENTAUTH_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
    }
    with celery_worker(**worker_env) as worker:
        ask_to_pay(alice, payer)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "Subject: Approve?" not in output_of(worker, limit=100_000):
            time.sleep(0.3)
        log = output_of(worker, limit=100_000)

    assert len(PushService.received) == 3  # the first try and two retries, with backoff
    assert "Subject: Approve?" in log  # then the console mailer of the worker sent the e-mail
    assert PushSubscription.objects.count() == 1  # a failing service is not a gone subscription


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "https://evil.example/push"},  # not a push service
        {"endpoint": "http://10.0.0.1/push"},
        {"keys": {"p256dh": "short", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
        {"keys": {"p256dh": b64(b"\x04" + b"1" * 64), "auth": "not base64!"}},
        {"keys": "nope"},
    ],
)
def test_a_subscription_must_be_a_real_one(person, push_service, change):
    body = {"endpoint": push_service, "keys": PushService.browser.keys()} | change

    answer = subscribe(person, body["endpoint"], body["keys"])

    assert answer.status_code == 400 and PushSubscription.objects.count() == 0


def test_subscribing_needs_the_session_and_csrf_and_devices_can_be_removed(person, push_service, alice, bob):
    without_csrf = person.post(
        "/api/v1/push/subscriptions",
        json.dumps({"endpoint": push_service, "keys": PushService.browser.keys()}),
        content_type="application/json",
    )
    created = subscribe(person, push_service, PushService.browser.keys()).json()
    listed = person.get("/api/v1/push/subscriptions").json()
    intruder = Client(enforce_csrf_checks=True)
    intruder.force_login(bob)
    intruder.get("/devices/")
    theirs = intruder.delete(
        f"/api/v1/push/subscriptions/{created['id']}", HTTP_X_CSRFTOKEN=intruder.cookies["csrftoken"].value
    )
    mine = person.delete(
        f"/api/v1/push/subscriptions/{created['id']}", HTTP_X_CSRFTOKEN=person.cookies["csrftoken"].value
    )

    assert without_csrf.status_code == 403
    assert [device["id"] for device in listed["results"]] == [created["id"]] and listed["application_server_key"]
    assert theirs.status_code == 404 and mine.status_code == 204
    assert PushSubscription.objects.count() == 0


def test_the_service_worker_is_served_for_the_whole_site(client):
    answer = client.get("/sw.js")

    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/javascript")
    assert answer["Service-Worker-Allowed"] == "/" and "showNotification" in answer.content.decode()
