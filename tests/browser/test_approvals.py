"""A real browser approving a payment from the alert pushed over the WebSocket."""

import contextlib
import time

import pytest
import requests
from django.conf import settings
from django.test import Client

from approvals.models import ApprovalRequest
from examples.models import Payment

from ..conftest import OAuthClient
from ..factories import UserFactory
from ..servers import asgi_server, celery_worker, wait_for
from .conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard/")


def test_approving_from_the_pushed_alert_runs_the_payment_once(page, shoot, catalogue):
    from agentauth.oauth.registration import register_agent

    person = UserFactory(username="heidi")
    agent, secret = register_agent(
        name="Invoice payer",
        owner=person,
        grant_types=["client_credentials"],
        grant_scopes=["payments:execute", "payments:read"],
    )
    agent.plain_secret = secret
    token = OAuthClient(Client()).token({"grant_type": "client_credentials"}, agent).json()["access_token"]
    worker = celery_worker() if settings.REDIS_URL else contextlib.nullcontext()
    with asgi_server() as server, worker:
        sign_in(page, server, "heidi")
        page.wait_for_selector("body[data-live=on]")  # no wait_for_function: the strict CSP forbids eval
        started = time.monotonic()
        asked = requests.post(
            f"{server}/api/v1/payments/",
            json={"amount": "120.00", "currency": "EUR", "to": "ACME Ltd", "memo": "Invoice 42"},
            headers={"Authorization": f"Bearer {token}"},
        )
        toast = page.locator(".toast", has_text="Pay 120.00 EUR to ACME Ltd")
        toast.wait_for(timeout=5000)
        alert_after = time.monotonic() - started
        shoot(page, "approval-alert")

        toast.locator("button[name=approve]").click()
        assert wait_for(lambda: ApprovalRequest.objects.get().status == "executed", timeout=15)
        page.goto(f"{server}/approvals/{asked.json()['approval_id']}/")
        shoot(page, "approval-page-executed")
        page.goto(f"{server}/approvals/")
        shoot(page, "approvals-inbox")

    assert asked.status_code == 202
    assert alert_after < 3
    assert Payment.objects.count() == 1


def test_the_approval_page_with_countdown(page, shoot, catalogue):
    from agentauth.oauth.registration import register_agent
    from approvals import services
    from examples.payments import PAY

    person = UserFactory(username="ivan")
    agent, _ = register_agent(
        name="Travel agent", owner=person, grant_types=["client_credentials"], grant_scopes=["payments:execute"]
    )
    approval, _ = services.request_approval(
        user=person,
        agent=agent,
        action=PAY,
        params={"amount": "450.00", "currency": "EUR", "to": "Rail Co", "memo": "Tickets"},
    )
    with asgi_server() as server:
        sign_in(page, server, "ivan")
        page.goto(f"{server}/approvals/{approval.pk}/")
        page.wait_for_selector("[data-role=countdown]:has-text('min')")
        shoot(page, "approval-page")
        page.click("button[name=deny]")
        page.wait_for_selector("text=Denied.")

    approval.refresh_from_db()
    assert approval.status == "denied"


def test_an_expired_approval_loses_its_buttons_without_a_reload(page, catalogue):
    from datetime import timedelta

    from agentauth.oauth.registration import register_agent
    from approvals import services
    from examples.payments import PAY

    person = UserFactory(username="eve")
    agent, _ = register_agent(
        name="Slow agent", owner=person, grant_types=["client_credentials"], grant_scopes=["payments:execute"]
    )
    params = {"amount": "9.00", "currency": "EUR", "to": "Cafe", "memo": ""}
    with asgi_server() as server:
        sign_in(page, server, "eve")
        approval, _ = services.request_approval(
            user=person, agent=agent, action=PAY, params=params, ttl=timedelta(seconds=4)
        )
        page.goto(f"{server}/approvals/{approval.pk}/")
        assert page.locator("button[name=approve]").count() == 1
        page.wait_for_selector("button[name=approve]", state="detached", timeout=10_000)
        badge = page.locator("[data-role=status]").first.text_content()

    assert badge == "expired"


OVERLAPS = """() => {
  const cards = [...document.querySelectorAll(".toast[role=alertdialog]")];
  const controls = [...document.querySelectorAll("a, button, input, select, textarea, summary")]
    .filter((el) => el.offsetParent !== null && !el.closest(".toast"));
  const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const problems = [];
  cards.forEach((card, i) => {
    const box = card.getBoundingClientRect();
    cards.forEach((other, j) => {
      if (j > i && meet(box, other.getBoundingClientRect())) problems.push(`card ${i} on card ${j}`);
    });
    controls.forEach((control) => {
      if (meet(box, control.getBoundingClientRect())) problems.push(`card ${i} on ${control.outerHTML.slice(0, 80)}`);
    });
  });
  return problems;
}"""


def test_five_waiting_approvals_on_a_phone_never_cover_a_control(browser, catalogue):
    from agentauth.oauth.registration import register_agent
    from approvals import services
    from examples.payments import PAY

    person = UserFactory(username="phil")
    agent, _ = register_agent(
        name="Busy agent", owner=person, grant_types=["client_credentials"], grant_scopes=["payments:execute"]
    )
    for number in range(5):
        params = {"amount": f"{10 + number}.00", "currency": "EUR", "to": "Shop", "memo": f"Order {number}"}
        services.request_approval(user=person, agent=agent, action=PAY, params=params)
    page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    with asgi_server() as server:
        sign_in(page, server, "phil")
        page.locator(".toast[role=alertdialog]").nth(4).wait_for()
        overlaps = page.evaluate(OVERLAPS)
        page.screenshot(path=str(SCREENSHOTS / "phone-five-approvals.png"), full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.locator(".toast .later").first.click()
        remaining = page.locator(".toast[role=alertdialog]").count()
        waiting = page.locator("[data-role=pending-count]").text_content()

    assert overlaps == []
    assert wide  # no sideways scrolling on a phone
    assert remaining == 4 and waiting == "5"  # put off for later, still counted in the inbox
