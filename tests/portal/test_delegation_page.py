"""The person sees, allows and cuts hand-overs between their agents on the agent's page."""

import pytest

from agentauth.consent.models import Delegation
from agentauth.oauth.exchange import ACCESS_TOKEN_TYPE

from ..factories import owned_agent


@pytest.fixture
def pair(alice, catalogue):
    return owned_agent(alice, "Planner"), owned_agent(alice, "Researcher")


def test_the_person_allows_a_hand_over_sees_the_chain_and_cuts_it(client, alice, pair, oauth):
    planner, researcher = pair
    client.force_login(alice)

    client.post(
        f"/agents/{planner.client_id}/delegations/", {"delegate": researcher.client_id, "scope": ["documents:read"]}
    )
    rule = Delegation.objects.get()
    assert rule.delegate == researcher and rule.scopes == ["documents:read"]

    token = oauth.token({"grant_type": "client_credentials"}, planner).json()["access_token"]
    handed = oauth.token(
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "audience": researcher.client_id,
        },
        planner,
    )
    assert handed.status_code == 200, handed.content
    page = client.get(f"/agents/{researcher.client_id}/").content.decode()
    assert "Receives <strong>documents:read</strong> from" in page and "Planner → Researcher" in page

    client.post(f"/agents/{researcher.client_id}/delegations/{rule.pk}/cut/")

    rule.refresh_from_db()
    assert not rule.is_active
    assert (
        client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {handed.json()['access_token']}").status_code
        == 401
    )


def test_nobody_allows_or_cuts_for_agents_that_are_not_theirs(client, bob, alice, pair):
    planner, researcher = pair
    client.force_login(bob)

    allowed = client.post(f"/agents/{planner.client_id}/delegations/", {"delegate": researcher.client_id})
    assert allowed.status_code == 404 and not Delegation.objects.exists()

    client.force_login(alice)
    client.post(
        f"/agents/{planner.client_id}/delegations/", {"delegate": researcher.client_id, "scope": ["documents:read"]}
    )
    rule = Delegation.objects.get()
    client.force_login(bob)
    assert client.post(f"/agents/{planner.client_id}/delegations/{rule.pk}/cut/").status_code == 404
    rule.refresh_from_db()
    assert rule.is_active


def test_a_hand_over_to_an_agent_of_someone_else_is_refused(client, alice, bob, pair, catalogue):
    planner, _ = pair
    bobs = owned_agent(bob, "Bob's agent")
    client.force_login(alice)

    client.post(f"/agents/{planner.client_id}/delegations/", {"delegate": bobs.client_id, "scope": ["documents:read"]})

    assert not Delegation.objects.exists()
