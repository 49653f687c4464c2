import json

import pytest
from jwcrypto import jwt

from agentauth.audit.models import AuditEvent
from agentauth.consent import grants
from agentauth.identity import keys, tokens
from agentauth.identity.models import AccessToken
from agentauth.oauth.registration import register_agent


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_owned_agent_gets_a_jwt_acting_for_its_owner(oauth, cc_agent, alice):
    response = oauth.token({"grant_type": "client_credentials", "scope": "documents:read"}, cc_agent)

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    assert body["scope"] == "documents:read"
    parsed = jwt.JWT()
    parsed.deserialize(body["access_token"])
    header = parsed.token.jose_header
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    kid, key = keys.signing_key()
    verified = jwt.JWT(jwt=body["access_token"], key=keys.verification_keys().get_key(kid), algs=["ES256"])
    claims = json.loads(verified.claims)
    assert claims["sub"] == str(alice.pk)
    assert claims["client_id"] == cc_agent.client_id
    assert claims["scope"] == "documents:read"
    assert {"iss", "aud", "jti", "iat", "exp"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 600


def test_no_scope_means_the_standing_grant(oauth, cc_agent):
    response = oauth.token({"grant_type": "client_credentials"}, cc_agent)

    assert response.json()["scope"] == "documents:read documents:write"


def narrowing_while_signing(monkeypatch, alice, agent, *narrowings):
    """Change the grant between the token request's read of it and its write: before each of the
    next signatures, to the next of `narrowings`."""
    sign, pending = tokens._sign, list(narrowings)

    def narrowed_then_signed(claims):
        if pending:
            grants.set_scopes(alice, agent, pending.pop(0))
        return sign(claims)

    monkeypatch.setattr(tokens, "_sign", narrowed_then_signed)


@pytest.mark.catalogue("RV-02")
def test_a_grant_narrowed_between_read_and_write_gives_a_token_of_what_is_left(oauth, cc_agent, alice, monkeypatch):
    narrowing_while_signing(monkeypatch, alice, cc_agent, ["documents:read"])

    response = oauth.token({"grant_type": "client_credentials"}, cc_agent)

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "documents:read"
    assert list(AccessToken.objects.values_list("scope", flat=True)) == ["documents:read"]
    assert AuditEvent.objects.filter(event="token.issued").count() == 1


def test_a_grant_that_keeps_changing_is_refused_for_now_and_nothing_is_written(oauth, cc_agent, alice, monkeypatch):
    narrowing_while_signing(
        monkeypatch, alice, cc_agent, ["documents:read"], ["documents:read", "documents:write"], ["documents:write"]
    )

    response = oauth.token({"grant_type": "client_credentials"}, cc_agent)

    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.json()["error"] == "temporarily_unavailable"
    assert not AccessToken.objects.exists() and not AuditEvent.objects.filter(event="token.issued").exists()


@pytest.mark.catalogue("SC-01")
def test_scope_beyond_the_grant_is_refused(oauth, cc_agent):
    response = oauth.token({"grant_type": "client_credentials", "scope": "payments:execute"}, cc_agent)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.catalogue("SC-01")
def test_unknown_scope_is_refused(oauth, cc_agent):
    response = oauth.token({"grant_type": "client_credentials", "scope": "admin"}, cc_agent)

    assert response.json()["error"] == "invalid_scope"


def test_agent_without_owner_cannot_act_for_anyone(oauth, catalogue):
    agent, secret = register_agent(name="Orphan", grant_types=["client_credentials"])
    agent.plain_secret = secret

    response = oauth.token({"grant_type": "client_credentials", "scope": "documents:read"}, agent)

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_owned_agent_without_consent_cannot_act(oauth, alice, catalogue):
    agent, secret = register_agent(name="No grant", owner=alice, grant_types=["client_credentials"])
    agent.plain_secret = secret

    response = oauth.token({"grant_type": "client_credentials"}, agent)

    assert response.json()["error"] == "unauthorized_client"


@pytest.mark.catalogue("CA-01")
@pytest.mark.parametrize("secret", ["wrong", ""])
def test_wrong_secret_is_invalid_client(oauth, cc_agent, secret):
    cc_agent.plain_secret = secret or "x"

    response = oauth.token({"grant_type": "client_credentials"}, cc_agent)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.catalogue("AC-07")
def test_password_grant_is_off(oauth, cc_agent, alice):
    response = oauth.token({"grant_type": "password", "username": "alice", "password": "x"}, cc_agent)

    assert response.status_code in (400, 401)
    assert response.json()["error"] == "unsupported_grant_type"


def test_secret_is_stored_hashed_with_the_fast_keyed_hash(cc_agent):
    assert cc_agent.client_secret.startswith("agentauth_client_secret$")
    assert cc_agent.plain_secret not in cc_agent.client_secret
    assert len(cc_agent.plain_secret) >= 43  # 256 bits, URL-safe base64
