"""RFC 8693 token exchange: delegation chains that never widen and die with any link."""

import time
from urllib.parse import urlencode

import jwt
import pytest
from django.test import Client

from agentauth.audit.models import AuditEvent
from agentauth.consent import delegations, grants
from agentauth.identity import lifecycle, tokens
from agentauth.oauth.exchange import ACCESS_TOKEN_TYPE

from ..conftest import basic_auth
from ..factories import owned_agent

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


@pytest.fixture
def chain(alice, catalogue):
    """Alice's three agents: A may hand documents:read and write to B, B may hand read to C."""
    a, b, c = (owned_agent(alice, name) for name in ("Planner", "Researcher", "Summariser"))
    delegations.allow(alice, a, b, ["documents:read", "documents:write"])
    delegations.allow(alice, b, c, ["documents:read"])
    return a, b, c


def client_token(oauth, agent):
    response = oauth.token({"grant_type": "client_credentials"}, agent)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def exchange(oauth, agent, token, **params):
    data = {"grant_type": EXCHANGE, "subject_token": token, "subject_token_type": ACCESS_TOKEN_TYPE}
    return oauth.token(data | params, agent)


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def api(token):
    return Client().get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def hand_on(oauth, chain):
    """Alice's token for A, handed to B, then to C: the three tokens."""
    a, b, c = chain
    token_a = client_token(oauth, a)
    token_b = exchange(oauth, a, token_a, audience=b.client_id).json()["access_token"]
    answer = exchange(oauth, b, token_b, audience=c.client_id, scope="documents:read")
    assert answer.status_code == 200, answer.content
    return token_a, token_b, answer.json()["access_token"]


def test_a_chain_of_three_acts_for_the_person_and_names_every_link(oauth, chain, alice):
    a, b, c = chain
    token_a, token_b, token_c = hand_on(oauth, chain)

    assert claims(token_b)["sub"] == str(alice.pk) and claims(token_b)["client_id"] == b.client_id
    assert claims(token_b)["act"] == {"sub": a.client_id}
    assert claims(token_c)["act"] == {"sub": b.client_id, "act": {"sub": a.client_id}}
    assert claims(token_c)["scope"] == "documents:read"
    assert claims(token_c)["exp"] <= claims(token_b)["exp"] <= claims(token_a)["exp"]
    assert [api(token) for token in (token_a, token_b, token_c)] == [200, 200, 200]
    issued = AuditEvent.objects.filter(event="token.issued", details__grant_type="token-exchange").order_by("id")
    assert issued.last().details["chain"] == [a.client_id, b.client_id, c.client_id]


def test_the_answer_is_rfc_8693s(oauth, chain):
    a, b, _ = chain
    answer = exchange(oauth, a, client_token(oauth, a), audience=b.client_id)

    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE and body["token_type"] == "Bearer"
    assert (
        body["scope"] == "documents:read documents:write"
        and 0 < body["expires_in"] <= claims(body["access_token"])["exp"] - time.time() + 1
    )


def test_cutting_the_middle_link_ends_every_token_below_it(oauth, chain, alice):
    a, b, c = chain
    token_a, token_b, token_c = hand_on(oauth, chain)

    delegations.cut(delegations.active(alice, a, b))

    assert [api(token) for token in (token_a, token_b, token_c)] == [200, 401, 401]
    refused = exchange(oauth, a, token_a, audience=b.client_id)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_target"


def test_suspending_an_agent_up_the_chain_ends_the_tokens_it_handed_on(oauth, chain):
    a, b, c = chain
    token_a, token_b, token_c = hand_on(oauth, chain)

    lifecycle.suspend(b)

    assert [api(token) for token in (token_a, token_b, token_c)] == [200, 401, 401]


def test_revoking_the_subject_token_revokes_what_was_handed_on(oauth, chain, client):
    a, b, c = chain
    token_a, token_b, token_c = hand_on(oauth, chain)

    revoked = client.post(  # RFC 7009, by the agent that holds it
        "/o/revoke_token/", urlencode({"token": token_a}), "application/x-www-form-urlencoded", **basic_auth(a)
    )

    assert revoked.status_code == 200
    assert [api(token) for token in (token_a, token_b, token_c)] == [401, 401, 401]


def test_narrowing_the_persons_grant_ends_the_wider_tokens_handed_on(oauth, chain, alice):
    a, b, c = chain
    token_a, token_b, token_c = hand_on(oauth, chain)

    grants.set_scopes(alice, a, ["documents:read"])

    assert [api(token) for token in (token_a, token_b, token_c)] == [401, 401, 401]


def test_never_wider_in_scope(oauth, chain, alice):
    a, b, c = chain
    token_b = exchange(oauth, a, client_token(oauth, a), audience=b.client_id, scope="documents:read")
    token_b = token_b.json()["access_token"]

    wider = exchange(oauth, b, token_b, audience=c.client_id, scope="documents:read documents:write")
    beyond_rule = exchange(oauth, b, token_b, audience=c.client_id, scope="documents:write")
    foreign = exchange(oauth, b, token_b, audience=c.client_id, scope="payments:execute")

    assert [r.json()["error"] for r in (wider, beyond_rule, foreign)] == ["invalid_scope"] * 3


def test_never_wider_in_audience(oauth, chain):
    a, b, _ = chain
    other = exchange(oauth, a, client_token(oauth, a), audience=b.client_id, resource="https://mcp.example/mcp")

    assert other.status_code == 400 and other.json()["error"] == "invalid_target"


def test_never_longer_lived(oauth, chain, settings):
    a, b, _ = chain
    token_a = client_token(oauth, a)
    settings.AGENTAUTH_ACCESS_TOKEN_SECONDS = 3600

    token_b = exchange(oauth, a, token_a, audience=b.client_id).json()["access_token"]

    assert claims(token_b)["exp"] <= claims(token_a)["exp"]


def test_only_where_the_person_allowed_it(oauth, chain):
    a, b, c = chain
    token_a = client_token(oauth, a)

    skipping = exchange(oauth, a, token_a, audience=c.client_id)  # A -> C was never allowed

    assert skipping.status_code == 400 and skipping.json()["error"] == "invalid_target"


def test_nobody_hands_on_a_token_that_is_not_theirs(oauth, chain):
    a, b, c = chain
    token_a = client_token(oauth, a)

    stolen = exchange(oauth, b, token_a, audience=c.client_id)  # B presents A's token

    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_request"


def test_another_persons_agent_cannot_be_a_delegate(oauth, chain, bob, alice):
    a, _, _ = chain
    bobs = owned_agent(bob, "Bob's agent")

    with pytest.raises(ValueError):
        delegations.allow(alice, a, a, ["documents:read"])
    refused = exchange(oauth, a, client_token(oauth, a), audience=bobs.client_id)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_target"


@pytest.mark.parametrize(
    "params, error",
    [
        ({"subject_token": "not.a.token"}, "invalid_request"),
        ({"subject_token_type": "urn:ietf:params:oauth:token-type:refresh_token"}, "invalid_request"),
        ({"requested_token_type": "urn:ietf:params:oauth:token-type:id_token"}, "invalid_request"),
        ({"actor_token": "x", "actor_token_type": ACCESS_TOKEN_TYPE}, "invalid_request"),
        ({"audience": "no-such-agent"}, "invalid_target"),
    ],
)
def test_malformed_requests_get_rfc_errors(oauth, chain, params, error):
    a, _, _ = chain
    answer = exchange(oauth, a, client_token(oauth, a), **params)

    assert answer.status_code == 400 and answer.json()["error"] == error


def test_an_unauthenticated_caller_learns_nothing(oauth, chain):
    a, b, _ = chain
    token_a = client_token(oauth, a)
    a.plain_secret = "wrong"

    assert exchange(oauth, a, token_a, audience=b.client_id).status_code == 401


def test_a_narrower_token_for_itself_needs_no_rule(oauth, chain):
    a, _, _ = chain
    token_a = client_token(oauth, a)

    narrower = exchange(oauth, a, token_a, scope="documents:read").json()["access_token"]

    assert claims(narrower)["client_id"] == a.client_id and "act" not in claims(narrower)
    assert claims(narrower)["scope"] == "documents:read" and api(narrower) == 200


@pytest.mark.parametrize("expired_for", [5, 120])  # within the clock skew, and beyond it
def test_an_expired_subject_token_is_refused(oauth, chain, alice, expired_for):
    a, b, _ = chain
    token_a, _ = tokens.issue(user=alice, agent=a, scopes=["documents:read"], lifetime=-expired_for, grant_type="test")

    refused = exchange(oauth, a, token_a, audience=b.client_id)

    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


def test_the_server_metadata_lists_the_grant(client):
    assert EXCHANGE in client.get("/.well-known/oauth-authorization-server").json()["grant_types_supported"]


def test_a_token_for_one_approved_action_is_not_handed_on(oauth, chain, alice):
    a, b, _ = chain
    details = [{"type": "payment_initiation", "instructedAmount": {"currency": "EUR", "amount": "950"}}]
    approved, _ = tokens.issue(
        user=alice,
        agent=a,
        scopes=["documents:read"],
        extra_claims={"authorization_details": details},
        grant_type="ciba",
    )

    for params in ({"audience": b.client_id}, {}):
        refused = exchange(oauth, a, approved, **params)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


def test_rules_and_cuts_are_audited_with_who_did_them(chain, alice):
    a, b, _ = chain
    delegations.cut(delegations.active(alice, a, b), why="admin")

    allowed = AuditEvent.objects.filter(event="delegation.allowed").order_by("id").first()
    cut = AuditEvent.objects.get(event="delegation.cut")
    assert allowed.actor_type == "person" and allowed.details["delegate"] == b.client_id
    assert cut.actor_type == "admin" and cut.details["why"] == "admin"


def test_a_narrower_token_for_itself_keeps_the_chain_it_came_through(oauth, chain):
    a, b, _ = chain
    token_b = exchange(oauth, a, client_token(oauth, a), audience=b.client_id).json()["access_token"]

    narrower = exchange(oauth, b, token_b, scope="documents:read").json()["access_token"]

    assert claims(narrower)["client_id"] == b.client_id and claims(narrower)["act"] == {"sub": a.client_id}
    issued = AuditEvent.objects.filter(event="token.issued", details__grant_type="token-exchange").order_by("id")
    assert issued.last().details["chain"] == [a.client_id, b.client_id]
