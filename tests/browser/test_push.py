"""A person turns on notifications in Chromium; an agent asks; the phone-side push arrives.

Chromium's own push service (FCM) is out of reach here, so the test stands in for it: the page's
`pushManager.subscribe` answers with an endpoint on a local push service and keys the test holds.
Everything else is real: the service worker registers, the page fetches the VAPID key, posts the
subscription with its session and CSRF token, and the server encrypts and signs the push that the
local service verifies and the test decrypts."""

import json

import pytest

from ..factories import UserFactory
from ..push_service import PushService, ask_to_pay
from ..servers import asgi_server
from .test_approvals import sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_notify_this_device_then_an_approval_arrives_as_a_push(page, shoot, catalogue, push_service, settings):
    from agentauth.oauth.registration import register_agent
    from live import push
    from live.models import PushSubscription

    person = UserFactory(username="pia")
    agent, _ = register_agent(
        name="Shopping agent", owner=person, grant_types=["client_credentials"], grant_scopes=["payments:execute"]
    )
    subscription = {"endpoint": push_service, "expirationTime": None, "keys": PushService.browser.keys()}
    page.add_init_script(
        "PushManager.prototype.subscribe = async function () {"
        f" const json = {json.dumps(subscription)}; return {{ toJSON: () => json }}; }};"
    )
    with asgi_server() as server:
        sign_in(page, server, "pia")
        page.goto(f"{server}/devices/")
        page.click("#notify-this-device")
        page.wait_for_selector("text=added")
        shoot(page, "devices")
        registered = page.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => !!r && r.scope)")

    assert registered.endswith("/")
    assert PushSubscription.objects.get(user=person).endpoint == push_service
    approval = ask_to_pay(person, agent)
    push.deliver(approval)  # what the notify task does (its retries and fallback: tests/live/test_push.py)
    assert wait_for(lambda: PushService.received)
    assert PushService.received[0]["message"]["approval_id"] == approval.pk
    assert not page.errors
