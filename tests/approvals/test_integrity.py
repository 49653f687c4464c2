"""Issue 16: what the person sees is what the agent gets. Each test replays an attack that worked."""

import json
import threading

import pytest
import requests
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.utils import timezone

from agentauth.audit import trail
from agentauth.consent import grants
from agentauth.consent.models import Grant
from agentauth.oauth.registration import register_agent
from approvals.cards import card
from approvals.models import ApprovalPolicy, ApprovalRequest
from portal.history import timeline

from ..factories import UserFactory
from .test_ciba import CIBA, DETAILS, approve, ask, poll
from .test_payments_flow import pay

PADDED = "openid documents:read documents:write payments:execute"
IBAN = "DE02100100109307118603"


@pytest.fixture
def wide_agent(catalogue):
    """A CIBA client allowed more than payments, as an attacker's client would register."""
    agent, secret = register_agent(
        name="Shopping agent",
        grant_types=[CIBA],
        allowed_scopes=["documents:read", "documents:write", "payments:execute"],
    )
    agent.plain_secret = secret
    return agent


def signed_in(user, fresh=False):
    client = Client()
    client.force_login(user)
    if not fresh:  # signed in an hour ago: too long for a high-risk approval
        session = client.session
        session["auth_time"] = int(timezone.now().timestamp()) - 3600
        session.save()
    return client


@pytest.mark.catalogue("AI-01")
def test_a_padded_ciba_request_shows_everything_and_its_token_carries_exactly_that(
    wide_agent, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        auth_req_id = ask(wide_agent, scope=PADDED).json()["auth_req_id"]
    approval = ApprovalRequest.objects.get(pk=auth_req_id)
    person = signed_in(alice)
    page = person.get(f"/approvals/{auth_req_id}/").text
    shown = {"page": page, "e-mail": mail.outbox[-1].body, "live card": json.dumps(card(approval), ensure_ascii=False)}

    for where, text in shown.items():
        for words in ("Read your documents", "Create and change your documents", "Make payments from your account"):
            assert words in text, f"{words!r} missing from the {where}"
        for value in ("123.50 EUR", "Merchant A", IBAN, "Ref Number Merchant", "W4SCT"):
            assert value in text, f"{value!r} missing from the {where}"
    assert approval.risk == "high" and approval.scope == "payments:execute"
    refused = person.post(
        f"/api/v1/approvals/{auth_req_id}/decision",
        json.dumps({"decision": "approve"}),
        content_type="application/json",
    )
    assert refused.status_code == 401 and refused.json()["error"] == "reauthentication_required"

    approve(auth_req_id, alice)
    issued = poll(wide_agent, auth_req_id).json()

    assert issued["scope"].split() == ["documents:read", "documents:write", "payments:execute"]
    assert issued["authorization_details"] == approval.authorization_details == approval.params["authorization_details"]


@pytest.mark.catalogue("AI-01")
def test_a_detail_field_without_words_is_shown_raw_not_dropped(wide_agent, alice):
    detail = dict(DETAILS[0], locations=["https://bank.example/accounts/7"])
    auth_req_id = ask(wide_agent, authorization_details=json.dumps([detail])).json()["auth_req_id"]

    page = signed_in(alice).get(f"/approvals/{auth_req_id}/").text

    assert "https://bank.example/accounts/7" in page


@pytest.mark.catalogue("AI-02")
def test_a_ciba_only_agent_is_on_its_persons_dashboard_with_its_controls(wide_agent, alice):
    auth_req_id = ask(wide_agent).json()["auth_req_id"]
    approve(auth_req_id, alice)
    token = poll(wide_agent, auth_req_id).json()["access_token"]
    person = signed_in(alice)

    assert "Shopping agent" in person.get("/dashboard/").text
    assert Grant.objects.get(user=alice, agent=wide_agent).scopes == []  # listed, not given anything

    person.post(f"/agents/{wide_agent.client_id}/revoke/")
    api = Client().get("/api/v1/payments/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 401


@pytest.mark.catalogue("AI-03")
@pytest.mark.parametrize("wait", ["nan", "NaN", "inf", "-inf", "-1", "1e400", "3601", "9" * 14, "١٢", "²", " 5"])
def test_odd_waits_are_400_not_a_dead_event_loop(pay_token, wait):
    approval_id = pay(pay_token, amount="5.00").json()["approval_id"]

    answer = Client().get(f"/api/v1/approvals/{approval_id}", {"wait": wait}, HTTP_AUTHORIZATION=f"Bearer {pay_token}")

    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


@pytest.mark.catalogue("AI-03")
@pytest.mark.parametrize("expiry", ["nan", "1e3", "١٢٠", "120.5", "-60", "²⁰⁰"])
def test_odd_requested_expiries_are_invalid_request(wide_agent, alice, expiry):
    answer = ask(wide_agent, requested_expiry=expiry)

    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


@pytest.mark.catalogue("AI-04")
def test_one_person_has_one_ciba_bucket_however_the_hint_is_spelled(wide_agent, settings):
    settings.CIBA_RATE_PER_PERSON = "3/hour"
    person = UserFactory(username="carol")
    spellings = [str(person.pk), f"0{person.pk}", f"00{person.pk}", "carol"]

    answers = [ask(wide_agent, login_hint=hint).status_code for hint in spellings]

    assert answers == [200, 200, 200, 429]
    assert ApprovalRequest.objects.filter(user=person).count() == 3


@pytest.mark.catalogue("AI-04")
def test_an_unknown_hint_is_limited_like_a_person_and_odd_digits_are_no_crash(wide_agent, settings, alice):
    settings.CIBA_RATE_PER_PERSON = "3/hour"

    unknown = [ask(wide_agent, login_hint=hint).status_code for hint in ["Nobody", "nobody", "NOBODY", "nobody "]]
    known = [ask(wide_agent, login_hint=hint).status_code for hint in ["alice", "ALICE", "Alice", "alice "]]
    odd = [ask(wide_agent, login_hint=hint).status_code for hint in ["²", "١", "٠٢", "𝟚"]]

    assert unknown == known == [200, 200, 200, 429]
    assert all(status in (200, 429) for status in odd)


@pytest.mark.catalogue("AI-05")
def test_every_spelling_of_an_account_shares_one_sign_in_bucket(alice, settings):
    from ..conftest import with_rate

    with_rate(settings, "signin", "3/hour")
    spellings = ["alice", "ALICE", " alice ", "ａｌｉｃｅ"]  # the last is full-width: NFKC makes it alice

    statuses = [
        Client().post("/accounts/login/", {"username": name, "password": "guess"}).status_code for name in spellings
    ]

    assert statuses == [200, 200, 200, 429]


@pytest.mark.catalogue("AI-05")
def test_re_authentication_is_limited_and_shares_the_sign_in_bucket(alice, payer, pay_token, settings):
    from ..conftest import with_rate

    with_rate(settings, "signin", "3/hour")
    Client().post("/accounts/login/", {"username": "alice", "password": "guess"})
    approval_id = pay(pay_token, amount="5.00").json()["approval_id"]
    person = signed_in(alice)

    statuses = [
        person.post(f"/approvals/{approval_id}/reauth/", {"password": f"guess-{n}"}).status_code for n in range(3)
    ]

    assert statuses == [200, 200, 429]


@pytest.mark.catalogue("AI-07")
def test_small_payments_cannot_add_up_past_the_budget_even_all_at_once(
    requires_postgres, live_server, alice, payer, pay_token
):
    ApprovalPolicy.objects.create(
        scope="payments:execute", user=alice, agent=payer, mode="above", limit="50", currency="EUR", budget="150"
    )
    barrier, statuses = threading.Barrier(10), []

    def pay(index):
        barrier.wait()
        answer = requests.post(
            f"{live_server.url}/api/v1/payments/",
            json={"amount": "49.00", "currency": "EUR", "to": "Shop", "memo": f"part {index}"},
            headers={"Authorization": f"Bearer {pay_token}"},
            timeout=30,
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=pay, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] * 3 + [202] * 7  # 3 × 49 = 147 fits in 150; the fourth would not
    assert ApprovalRequest.objects.filter(automatic=True).count() == 3
    assert ApprovalRequest.objects.filter(status="pending").count() == 7


def test_the_budget_window_lets_old_spending_go(alice, payer, pay_token):
    ApprovalPolicy.objects.create(
        scope="payments:execute", user=alice, agent=payer, mode="above", limit="50", currency="EUR", budget="60"
    )

    assert pay(pay_token, amount="40.00").status_code == 201 and pay(pay_token, amount="40.00").status_code == 202
    ApprovalRequest.objects.filter(automatic=True).update(created_at=timezone.now() - timezone.timedelta(hours=25))
    assert pay(pay_token, amount="40.00").status_code == 201


@pytest.mark.catalogue("AI-08")
def test_someone_who_granted_an_agent_does_not_see_its_owners_events(alice, bob, cc_agent):
    grants.grant(bob, cc_agent, ["documents:read"])
    trail.record("agent.secret_rotated", agent=cc_agent, actor="alice")

    assert "Secret rotated" not in [entry["text"] for entry in timeline(bob, cc_agent)]
    assert "Secret rotated" in [entry["text"] for entry in timeline(alice, cc_agent)]


@pytest.mark.catalogue("AI-08")
def test_the_security_report_needs_its_permission_not_just_staff(db):
    staff = UserFactory(username="helpdesk", is_staff=True)
    client = Client()
    client.force_login(staff)

    assert client.get("/security/report/").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_security_report"))
    assert client.get("/security/report/").status_code == 200
