"""GET /api/v1/approvals/: an agent lists its own approvals for its person (what `agentauth
approvals` shows), and nobody else's."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from agentauth.oauth.registration import register_agent
from approvals.models import ApprovalRequest

from ..conftest import OAuthClient
from .test_payments_flow import bearer, pay


def listed(token, query=""):
    return Client().get(f"/api/v1/approvals/{query}", **bearer(token))


@pytest.fixture
def other_payer_token(client, alice):
    """A second agent of the same person, also allowed to pay."""
    agent, secret = register_agent(
        name="Other payer", owner=alice, grant_types=["client_credentials"], grant_scopes=["payments:execute"]
    )
    agent.plain_secret = secret
    return OAuthClient(client).token({"grant_type": "client_credentials"}, agent).json()["access_token"]


def test_an_agent_lists_its_own_approvals_newest_first(pay_token, other_payer_token, settings):
    first = pay(pay_token, amount="120.00").json()["approval_id"]
    second = pay(pay_token, amount="130.00").json()["approval_id"]
    pay(other_payer_token)  # another agent's: not in the list

    answer = listed(pay_token)

    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    results = answer.json()["results"]
    assert [entry["approval_id"] for entry in results] == [second, first]
    assert results[0]["status"] == "pending" and results[0]["action"] == "payments.create"
    assert results[0]["status_url"] == f"{settings.AGENTAUTH_ISSUER}/api/v1/approvals/{second}"
    assert set(results[0]) >= {"expires_at", "created_at", "interval", "authorization_details"}


def test_the_list_filters_by_the_status_the_agent_would_see(pay_token):
    stale = pay(pay_token, amount="120.00").json()["approval_id"]
    fresh = pay(pay_token, amount="130.00").json()["approval_id"]
    ApprovalRequest.objects.filter(pk=stale).update(expires_at=timezone.now() - timedelta(seconds=1))

    pending = listed(pay_token, "?status=pending").json()["results"]
    expired = listed(pay_token, "?status=expired").json()["results"]

    assert [entry["approval_id"] for entry in pending] == [fresh]
    assert [entry["approval_id"] for entry in expired] == [stale]


def test_the_list_needs_a_token_and_a_known_status(pay_token):
    anonymous = Client().get("/api/v1/approvals/")
    unknown = listed(pay_token, "?status=maybe")

    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_request"
