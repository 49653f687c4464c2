"""The calendar example: a third critical action declared in one module (examples/invitations.py)."""

import json

import pytest
from django.test import Client

from agentauth.oauth.registration import register_agent
from approvals.models import ApprovalRequest
from examples.models import Invitation

from ..conftest import OAuthClient

EVENT = {"title": "Launch review", "starts_at": "2026-12-10T09:00:00Z"}


def people(count):
    return [f"guest{number}@example.com" for number in range(count)]


@pytest.fixture
def inviter(alice, catalogue):
    agent, secret = register_agent(
        name="Calendar bot", owner=alice, grant_types=["client_credentials"], grant_scopes=["calendar:write"]
    )
    agent.plain_secret = secret
    return agent


@pytest.fixture
def token(client, inviter):
    return OAuthClient(client).token({"grant_type": "client_credentials"}, inviter).json()["access_token"]


@pytest.fixture
def person(alice):
    client = Client()
    client.force_login(alice)
    return client


def invite(token, invitees, key=None, **more):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} | ({"HTTP_IDEMPOTENCY_KEY": key} if key else {})
    body = json.dumps({**EVENT, "invitees": invitees, **more})
    return Client().post("/api/v1/calendar/invitations/", body, content_type="application/json", **headers)


def decide(person, approval_id, decision):
    return person.post(
        f"/api/v1/approvals/{approval_id}/decision", json.dumps({"decision": decision}), content_type="application/json"
    )


def test_ten_invitees_are_sent_at_once_and_still_recorded(token, alice, inviter):
    sent = invite(token, people(10))

    assert sent.status_code == 201
    assert sent.json()["status"] == "executed" and len(sent.json()["invitees"]) == 10
    assert Invitation.objects.filter(owner=alice, created_by_agent=inviter.client_id).count() == 10
    approval = ApprovalRequest.objects.get()
    assert approval.automatic and approval.action == "calendar.invite" and approval.result == {"invited": 10}


def test_eleven_invitees_wait_for_the_person_then_go_out_once(token, person, django_capture_on_commit_callbacks):
    asked = invite(token, people(11))

    assert asked.status_code == 202
    approval_id = asked.json()["approval_id"]
    assert Invitation.objects.count() == 0
    page = person.get(f"/approvals/{approval_id}/")
    assert "Invite 11 people" in page.text and "guest10@example.com" in page.text  # every invitee is shown

    with django_capture_on_commit_callbacks(execute=True):
        assert decide(person, approval_id, "approve").status_code == 200
    status = Client().get(f"/api/v1/approvals/{approval_id}", HTTP_AUTHORIZATION=f"Bearer {token}").json()

    assert status["status"] == "executed" and status["result"] == {"invited": 11}
    assert Invitation.objects.count() == 11
    assert invite(token, people(11)).status_code == 202  # the same invitation again is a new request


def test_a_denied_invitation_sends_nothing(token, person, django_capture_on_commit_callbacks):
    approval_id = invite(token, people(12)).json()["approval_id"]

    with django_capture_on_commit_callbacks(execute=True):
        decide(person, approval_id, "deny")

    assert ApprovalRequest.objects.get().status == "denied"
    assert Invitation.objects.count() == 0


def test_a_retry_with_the_same_key_is_the_same_request(token):
    first = invite(token, people(11), key="invite-1")
    again = invite(token, people(11), key="invite-1")
    other = invite(token, people(12), key="invite-1")

    assert first.json()["approval_id"] == again.json()["approval_id"]
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"
    assert ApprovalRequest.objects.count() == 1


def test_duplicates_are_one_invitee_and_the_count_is_what_the_person_sees(token):
    sent = invite(token, people(10) + people(10) + ["guest0@example.com"])

    assert sent.status_code == 201 and sent.json()["invitees"] == sorted(people(10))


@pytest.mark.parametrize(
    "body",
    [
        {"invitees": []},
        {"invitees": ["not an address"]},
        {"invitees": people(101)},
        {"invitees": "guest@example.com"},
        {"starts_at": "tomorrow"},
        {"title": "x" * 201},
    ],
)
def test_bad_invitations_are_400_and_open_nothing(token, body):
    response = invite(token, **{"invitees": people(3), **body})

    assert response.status_code == 400
    assert ApprovalRequest.objects.count() == 0


def test_an_agent_without_calendar_write_cannot_invite(client, cc_agent):
    token = OAuthClient(client).token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    response = invite(token, people(2))

    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


def test_consent_withdrawn_before_the_approval_runs_stops_it(token, person, alice, inviter):
    from agentauth.consent import grants
    from approvals import services

    approval_id = invite(token, people(11)).json()["approval_id"]
    decide(person, approval_id, "approve")  # the execution waits for commit, which is not captured here
    grants.revoke_grant(alice, inviter)
    services.redeem(approval_id)

    approval = ApprovalRequest.objects.get()
    assert approval.status == "failed" and "withdrawn" in approval.reason
    assert Invitation.objects.count() == 0
