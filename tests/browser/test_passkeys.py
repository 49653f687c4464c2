"""Passkeys in a real browser: Chromium's virtual authenticator (the DevTools WebAuthn domain)
stands in for a phone's or laptop's, with user verification, a resident key and a counter."""

import pytest

from agentauth.audit.models import AuditEvent
from agentauth.oauth.registration import register_agent
from approvals import services
from approvals.models import ApprovalRequest
from examples.payments import PAY
from passkeys.models import Passkey

from ..factories import UserFactory
from .test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def authenticator(page):
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    added = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "ctap2Version": "ctap2_1",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return devtools, added["authenticatorId"]


@pytest.fixture
def relying_party(settings, live_server):
    settings.AGENTAUTH_PASSKEY_RP_ID = "localhost"  # live_server.url is http://localhost:<port>
    settings.AGENTAUTH_PASSKEY_ORIGINS = [live_server.url]
    return live_server.url


def test_add_a_passkey_sign_in_with_it_and_approve_a_payment_with_step_up(
    page, authenticator, relying_party, settings, catalogue, shoot
):
    base = relying_party
    person = UserFactory(username="pia")
    agent, _ = register_agent(
        name="Invoice payer", owner=person, grant_types=["client_credentials"], grant_scopes=["payments:execute"]
    )

    sign_in(page, base, "pia")
    page.goto(f"{base}/passkeys/")
    page.fill("#passkey-name", "Test laptop")
    page.click("text=Add a passkey")
    page.wait_for_selector("text=Test laptop")
    shoot(page, "passkeys")
    passkey = Passkey.objects.get(user=person)
    assert passkey.name == "Test laptop" and passkey.transports == ["internal"]

    page.click("button:has-text('Sign out')")
    page.wait_for_url(f"{base}/accounts/login/")
    page.click("text=Sign in with a passkey")
    page.wait_for_url(f"{base}/dashboard/")
    assert AuditEvent.objects.filter(event="signin.success", details__method="passkey").count() == 1

    settings.APPROVAL_REAUTH_SECONDS = 0  # every high-risk approval now needs a step-up
    approval, _ = services.request_approval(
        user=person,
        agent=agent,
        action=PAY,
        params={"amount": "950.00", "currency": "EUR", "to": "DE89370400440532013000", "memo": "Rent"},
    )
    page.goto(f"{base}/approvals/{approval.pk}/")
    page.click("form[data-decision-form] button[name=approve]")
    page.wait_for_url(f"{base}/approvals/{approval.pk}/reauth/")
    shoot(page, "passkey-step-up")
    page.click("text=Use a passkey and approve")
    page.wait_for_url(f"{base}/approvals/{approval.pk}/")
    page.wait_for_selector("text=Approved. It runs once, exactly as shown.")

    approval.refresh_from_db()
    assert approval.status in (ApprovalRequest.Status.APPROVED, ApprovalRequest.Status.EXECUTED)
    decided = AuditEvent.objects.get(event="approval.approved")
    assert decided.details["auth_method"] == "passkey"
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None and passkey.sign_count >= 2  # sign-in, then step-up
    # live_server has no WebSockets; the JSON decision's 401 is what sends the person to step up.
    unexpected = [error for error in page.errors if "WebSocket" not in error and "/decision" not in error]
    assert unexpected == []
