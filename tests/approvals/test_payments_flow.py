"""The agent's side and the person's side of a payment that needs approval, through HTTP."""

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from agentauth.consent import grants
from approvals.models import ApprovalPolicy, ApprovalRequest
from examples.models import Payment


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def pay(token, amount="120.00", key=None, **more):
    headers = bearer(token)
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    body = {"amount": amount, "currency": "EUR", "to": "ACME Ltd", "memo": "Invoice 42", **more}
    return Client().post("/api/v1/payments/", json.dumps(body), content_type="application/json", **headers)


def status(token, approval_id, wait=None):
    query = f"?wait={wait}" if wait is not None else ""
    return Client().get(f"/api/v1/approvals/{approval_id}{query}", **bearer(token))


@pytest.fixture
def person(client, alice):
    client.force_login(alice)
    session = client.session
    session["auth_time"] = int(timezone.now().timestamp())
    session.save()
    return client


def decide(client, approval_id, decision, **more):
    return client.post(
        f"/api/v1/approvals/{approval_id}/decision",
        json.dumps({"decision": decision, **more}),
        content_type="application/json",
    )


def test_a_payment_waits_for_the_person_and_runs_once_approved(pay_token, person, django_capture_on_commit_callbacks):
    asked = pay(pay_token)

    assert asked.status_code == 202
    body = asked.json()
    assert set(body) == {"approval_id", "status", "status_url", "expires_at", "interval"}
    assert body["status"] == "pending" and asked["Location"] == body["status_url"]
    assert status(pay_token, body["approval_id"]).json()["status"] == "pending"
    assert Payment.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        decided = decide(person, body["approval_id"], "approve")

    assert decided.status_code == 200
    final = status(pay_token, body["approval_id"]).json()
    assert final["status"] == "executed"
    payment = Payment.objects.get()
    assert final["result"] == {"payment_id": payment.pk}
    assert str(payment.amount) == "120.00" and payment.to == "ACME Ltd"
    ledger = Client().get("/api/v1/payments/", **bearer(pay_token)).json()["results"]
    assert [entry["approval_id"] for entry in ledger] == [body["approval_id"]]


def test_denial_reaches_the_agent_with_the_reason(pay_token, person, django_capture_on_commit_callbacks):
    approval_id = pay(pay_token).json()["approval_id"]

    with django_capture_on_commit_callbacks(execute=True):
        decide(person, approval_id, "deny", reason="Not this month")

    answer = status(pay_token, approval_id).json()
    assert answer["status"] == "denied" and answer["reason"] == "Not this month"
    assert Payment.objects.count() == 0


@pytest.mark.catalogue("AP-01")
def test_a_second_decision_gets_409(pay_token, person, django_capture_on_commit_callbacks):
    approval_id = pay(pay_token).json()["approval_id"]
    with django_capture_on_commit_callbacks(execute=True):
        decide(person, approval_id, "approve")

    again = decide(person, approval_id, "deny")

    assert again.status_code == 409 and again.json()["error"] == "already_decided"
    assert Payment.objects.count() == 1


@pytest.mark.catalogue("AP-06")
@pytest.mark.catalogue("FT-03")
def test_approving_after_expiry_gets_409_expired(pay_token, person):
    approval_id = pay(pay_token).json()["approval_id"]
    ApprovalRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    late = decide(person, approval_id, "approve")

    assert late.status_code == 409 and late.json()["error"] == "expired"
    assert status(pay_token, approval_id).json()["status"] == "expired"


@pytest.mark.catalogue("AP-06", "RV-02")
def test_revoking_the_grant_cancels_pending_approvals(pay_token, person, alice, payer):
    approval_id = pay(pay_token).json()["approval_id"]

    grants.revoke_grant(alice, payer)
    late = decide(person, approval_id, "approve")

    assert ApprovalRequest.objects.get().status == "cancelled"
    assert late.status_code == 409 and late.json()["error"] == "cancelled"


@pytest.mark.catalogue("AP-06")
def test_consent_withdrawn_after_approval_stops_execution(pay_token, person, alice, payer):
    approval_id = pay(pay_token).json()["approval_id"]
    decide(person, approval_id, "approve")  # the execution is held until commit (not captured here)

    grants.set_scopes(alice, payer, ["payments:read"])
    from approvals import services

    services.redeem(approval_id)

    approval = ApprovalRequest.objects.get()
    assert approval.status == "failed" and "withdrawn" in approval.reason
    assert Payment.objects.count() == 0


@pytest.mark.catalogue("AP-04")
def test_someone_elses_approval_is_404_for_people_and_agents(pay_token, client, bob, catalogue):
    approval_id = pay(pay_token).json()["approval_id"]
    client.force_login(bob)

    assert decide(client, approval_id, "approve").status_code == 404
    assert client.get(f"/approvals/{approval_id}/").status_code == 404
    assert client.get("/approvals/nonexistent/").status_code == 404
    assert ApprovalRequest.objects.get().status == "pending"


@pytest.mark.catalogue("AP-04")
def test_another_agent_cannot_read_the_approval(pay_token, cc_agent, oauth):
    approval_id = pay(pay_token).json()["approval_id"]
    other = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    assert status(other, approval_id).status_code == 404
    assert status("garbage", approval_id).status_code == 401


@pytest.mark.catalogue("AP-05")
def test_an_agent_token_cannot_decide(pay_token):
    approval_id = pay(pay_token).json()["approval_id"]

    response = Client().post(
        f"/api/v1/approvals/{approval_id}/decision",
        json.dumps({"decision": "approve"}),
        content_type="application/json",
        **bearer(pay_token),
    )

    assert response.status_code in (401, 403)
    assert ApprovalRequest.objects.get().status == "pending"


@pytest.mark.catalogue("AP-10")
def test_the_decision_endpoint_needs_the_csrf_token(pay_token, alice):
    approval_id = pay(pay_token).json()["approval_id"]
    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(alice)

    forged = attacker.post(
        f"/api/v1/approvals/{approval_id}/decision",
        json.dumps({"decision": "approve"}),
        content_type="application/json",
    )
    as_get = attacker.get(f"/api/v1/approvals/{approval_id}/decision?decision=approve")

    assert forged.status_code == 403
    assert as_get.status_code == 405
    assert ApprovalRequest.objects.get().status == "pending"


@pytest.mark.catalogue("AP-09")
def test_high_risk_approval_needs_a_recent_sign_in(pay_token, client, alice):
    approval_id = pay(pay_token).json()["approval_id"]
    client.force_login(alice)
    session = client.session
    session["auth_time"] = int(timezone.now().timestamp()) - 3600  # signed in an hour ago
    session.save()

    response = decide(client, approval_id, "approve")

    assert response.status_code == 401 and response.json()["error"] == "reauthentication_required"
    confirm = client.post(response.json()["reauth_url"], {"password": "correct horse battery staple"})
    assert confirm.status_code == 302
    assert decide(client, approval_id, "approve").status_code == 200


@pytest.mark.catalogue("AP-02")
def test_the_same_idempotency_key_returns_the_same_approval(pay_token):
    first = pay(pay_token, key="pay-42").json()
    second = pay(pay_token, key="pay-42").json()
    different = pay(pay_token, amount="999.00", key="pay-42")

    assert first["approval_id"] == second["approval_id"]
    assert ApprovalRequest.objects.count() == 1
    assert different.status_code == 409


def test_below_the_persons_limit_it_is_approved_automatically(pay_token, alice, payer):
    ApprovalPolicy.objects.create(scope="payments:execute", user=alice, mode="above", limit="20.00", currency="EUR")

    small = pay(pay_token, amount="19.99")
    large = pay(pay_token, amount="20.00")

    assert small.status_code == 201 and small.json()["status"] == "executed"
    assert large.status_code == 202
    automatic = ApprovalRequest.objects.get(pk=small.json()["approval_id"])
    assert automatic.automatic and automatic.decided_by is None


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "-5", "currency": "EUR", "to": "x"},
        {"amount": "0", "currency": "EUR", "to": "x"},
        {"amount": "1e308", "currency": "EUR", "to": "x"},
        {"amount": "NaN", "currency": "EUR", "to": "x"},
        {"amount": "10", "currency": "XXX", "to": "x"},
        {"amount": "10", "currency": "EUR", "to": "x" * 200},
        {"amount": "10.001", "currency": "EUR", "to": "x"},
        {"currency": "EUR", "to": "x"},
    ],
)
def test_bad_payment_requests_are_400(pay_token, body):
    response = Client().post(
        "/api/v1/payments/", json.dumps(body), content_type="application/json", **bearer(pay_token)
    )

    assert response.status_code == 400
    assert ApprovalRequest.objects.count() == 0


def test_a_token_without_payments_execute_gets_403(oauth, cc_agent):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    assert pay(token).status_code == 403


def test_long_poll_returns_as_soon_as_the_status_changes(pay_token, alice, django_capture_on_commit_callbacks):
    approval_id = pay(pay_token).json()["approval_id"]
    ApprovalRequest.objects.filter(pk=approval_id).update(expires_at=timezone.now() + timedelta(seconds=1))

    answer = status(pay_token, approval_id, wait=5)

    assert answer.json()["status"] == "expired"


def test_long_poll_holds_an_approved_action_until_it_has_run(pay_token, person, settings):
    settings.APPROVAL_MAX_WAIT = 1
    approval_id = pay(pay_token).json()["approval_id"]
    decide(person, approval_id, "approve")  # the execution runs after commit, which never comes here

    started = time.monotonic()
    answer = status(pay_token, approval_id, wait=30)

    # Held until `wait` ran out (capped at 1 s here): an agent is not sent back to poll in a loop.
    assert answer.json()["status"] == "approved" and time.monotonic() - started >= 0.9


@pytest.mark.parametrize("approval_id", ["no.such.approval", "a%25b", "x" * 65, "unknown-but-well-formed"])
def test_long_poll_on_what_is_no_approval_answers_404_at_once(pay_token, approval_id):
    started = time.monotonic()

    answer = status(pay_token, approval_id, wait=5)

    assert answer.status_code == 404 and time.monotonic() - started < 2


def test_wait_must_be_a_number(pay_token):
    approval_id = pay(pay_token).json()["approval_id"]

    assert status(pay_token, approval_id, wait="soon").status_code == 400


@pytest.mark.catalogue("FT-05")
@pytest.mark.django_db(transaction=True)  # the failed write closes the connection; let it reopen
def test_no_decision_without_its_audit_record(pay_token, person, monkeypatch):
    from django.db import OperationalError

    from agentauth.audit import trail

    approval_id = pay(pay_token).json()["approval_id"]

    def audit_down(*args, **kwargs):
        raise OperationalError("audit storage unavailable")

    monkeypatch.setattr(trail, "insert", audit_down)
    response = decide(person, approval_id, "approve")

    assert response.status_code == 503
    assert ApprovalRequest.objects.get().status == "pending"
    assert Payment.objects.count() == 0


@pytest.mark.catalogue("AP-07")
def test_the_final_status_is_stable_and_polling_never_executes(pay_token, person, django_capture_on_commit_callbacks):
    approval_id = pay(pay_token).json()["approval_id"]
    with django_capture_on_commit_callbacks(execute=True):
        decide(person, approval_id, "deny")

    answers = {status(pay_token, approval_id).json()["status"] for _ in range(5)}

    assert answers == {"denied"}
    assert Payment.objects.count() == 0


@pytest.mark.catalogue("AP-09")
def test_after_the_step_up_the_approval_the_person_started_is_made(pay_token, client, alice):
    approval_id = pay(pay_token).json()["approval_id"]
    client.force_login(alice)
    session = client.session
    session["auth_time"] = int(timezone.now().timestamp()) - 3600
    session.save()

    refused = client.post(f"/approvals/{approval_id}/reauth/", {"password": "wrong", "approve": "1"})
    assert refused.status_code == 200 and ApprovalRequest.objects.get().status == "pending"
    confirmed = client.post(
        f"/approvals/{approval_id}/reauth/", {"password": "correct horse battery staple", "approve": "1"}
    )
    page = client.get(confirmed["Location"])

    assert confirmed.status_code == 302 and confirmed["Location"] == f"/approvals/{approval_id}/"
    assert ApprovalRequest.objects.get().status in ("approved", "executed")
    assert "Approved. It runs once, exactly as shown." in page.text
