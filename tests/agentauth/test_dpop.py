"""RFC 9449 DPoP at the token endpoint and the API: each attack a stolen token or proof allows."""

import json
import time
import uuid
from urllib.parse import urlencode

import jwt
import pytest
from django.conf import settings as django_settings
from django.test import Client
from jwcrypto import jwk

from agentauth.identity import dpop

from ..conftest import basic_auth

TOKEN_URL = django_settings.AGENTAUTH_ISSUER + "/o/token/"
API_URL = "http://testserver/api/v1/documents/"


class Holder:
    """An agent's DPoP key pair and the proofs it signs."""

    def __init__(self):
        self.key = jwk.JWK.generate(kty="EC", crv="P-256")
        self.public = self.key.export_public(as_dict=True)

    def proof(self, method, url, *, token=None, iat=None, jti=None, nonce=None, **header):
        claims = {"htm": method, "htu": url, "iat": int(iat or time.time()), "jti": jti or uuid.uuid4().hex}
        if token:
            claims["ath"] = dpop.access_token_hash(token)
        if nonce:
            claims["nonce"] = nonce
        private = self.key.export_to_pem(private_key=True, password=None)
        return jwt.encode(claims, private, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.public, **header})


@pytest.fixture
def holder():
    return Holder()


def token_request(client, agent, proof=None, **data):
    headers = basic_auth(agent) if getattr(agent, "plain_secret", None) else {}
    if proof:
        headers["HTTP_DPOP"] = proof
    body = urlencode({"grant_type": "client_credentials", **data})
    return client.post("/o/token/", body, content_type="application/x-www-form-urlencoded", **headers)


def bound_token(client, agent, holder):
    response = token_request(client, agent, holder.proof("POST", TOKEN_URL))
    assert response.status_code == 200, response.content
    return response.json()


def call(token, proof=None, scheme="DPoP"):
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"} | ({"HTTP_DPOP": proof} if proof else {})
    return Client().get("/api/v1/documents/", **headers)


def test_a_bound_token_works_only_with_a_proof_from_its_key(client, cc_agent, holder):
    issued = bound_token(client, cc_agent, holder)
    token = issued["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})

    assert issued["token_type"] == "DPoP"
    assert claims["cnf"] == {"jkt": dpop.thumbprint(holder.public)}
    assert call(token, holder.proof("GET", API_URL, token=token)).status_code == 200
    stolen = call(token, scheme="Bearer")
    assert stolen.status_code == 401 and "DPoP scheme" in stolen.json()["error_description"]
    thief = Holder()
    refused = call(token, thief.proof("GET", API_URL, token=token))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_dpop_proof"
    assert refused["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda h, t: h.proof("GET", API_URL.replace("documents", "payments"), token=t), id="wrong htu"),
        pytest.param(lambda h, t: h.proof("POST", API_URL, token=t), id="wrong htm"),
        pytest.param(lambda h, t: h.proof("GET", API_URL, token=t + "x"), id="wrong ath"),
        pytest.param(lambda h, t: h.proof("GET", API_URL), id="no ath"),
        pytest.param(lambda h, t: h.proof("GET", API_URL, token=t, iat=time.time() - 600), id="stale iat"),
        pytest.param(lambda h, t: h.proof("GET", API_URL, token=t, iat=time.time() + 600), id="future iat"),
        pytest.param(lambda h, t: h.proof("GET", API_URL, token=t, typ="JWT"), id="wrong typ"),
        pytest.param(lambda h, t: None, id="no proof"),
        pytest.param(lambda h, t: "not.a.proof", id="garbage"),
        pytest.param(lambda h, t: h.proof("GET", API_URL, token=t) + "," + h.proof("GET", API_URL, token=t), id="two"),
    ],
)
def test_a_proof_for_anything_else_is_refused(client, cc_agent, holder, spoil):
    token = bound_token(client, cc_agent, holder)["access_token"]

    response = call(token, spoil(holder, token))

    assert response.status_code == 401 and response.json()["error"] == "invalid_dpop_proof"


def test_a_replayed_proof_is_refused(client, cc_agent, holder):
    token = bound_token(client, cc_agent, holder)["access_token"]
    proof = holder.proof("GET", API_URL, token=token)

    assert call(token, proof).status_code == 200
    replayed = call(token, proof)

    assert replayed.status_code == 401 and "used before" in replayed.json()["error_description"]


def test_a_proof_with_a_private_key_in_its_header_is_refused(client, cc_agent, holder):
    leaky = holder.proof("POST", TOKEN_URL, jwk=holder.key.export_private(as_dict=True))

    response = token_request(client, cc_agent, leaky)

    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"


def test_the_replay_cache_down_fails_closed(client, cc_agent, holder, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    response = token_request(client, cc_agent, holder.proof("POST", TOKEN_URL))

    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"


def test_an_agent_registered_for_dpop_gets_no_bearer_token(client, cc_agent, holder):
    cc_agent.dpop_bound_access_tokens = True
    cc_agent.save(update_fields=["dpop_bound_access_tokens"])

    refused = token_request(client, cc_agent)

    assert refused.status_code == 400 and refused.json()["error"] == "invalid_dpop_proof"
    assert bound_token(client, cc_agent, holder)["token_type"] == "DPoP"


def test_only_the_agent_itself_learns_that_it_must_send_a_proof(client, cc_agent):
    cc_agent.dpop_bound_access_tokens = True
    cc_agent.save(update_fields=["dpop_bound_access_tokens"])
    cc_agent.plain_secret = "not-its-secret"

    refused = token_request(client, cc_agent)

    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


def test_server_nonces_when_required(client, cc_agent, holder, settings):
    settings.AGENTAUTH_DPOP_NONCE = True

    first = token_request(client, cc_agent, holder.proof("POST", TOKEN_URL))
    nonce = first["DPoP-Nonce"]
    second = token_request(client, cc_agent, holder.proof("POST", TOKEN_URL, nonce=nonce))

    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce" and nonce
    assert second.status_code == 200 and second.json()["token_type"] == "DPoP"
    token = second.json()["access_token"]
    at_api = call(token, holder.proof("GET", API_URL, token=token))
    assert at_api.status_code == 401 and at_api.json()["error"] == "use_dpop_nonce" and at_api["DPoP-Nonce"]
    with_nonce = call(token, holder.proof("GET", API_URL, token=token, nonce=at_api["DPoP-Nonce"]))
    assert with_nonce.status_code == 200


def test_a_public_clients_refresh_token_is_bound_to_its_key(alice_oauth, public_agent, holder):
    code, verifier = alice_oauth.code_flow(public_agent, "documents:read")
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://agent.example/cb",
        "code_verifier": verifier,
        "client_id": public_agent.client_id,
    }
    tokens = token_request(alice_oauth.client, public_agent, holder.proof("POST", TOKEN_URL), **exchange).json()
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": public_agent.client_id,
    }

    stolen = token_request(alice_oauth.client, public_agent, Holder().proof("POST", TOKEN_URL), **refresh)
    unproven = token_request(alice_oauth.client, public_agent, **refresh)
    rotated = token_request(alice_oauth.client, public_agent, holder.proof("POST", TOKEN_URL), **refresh)

    assert tokens["token_type"] == "DPoP"
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert unproven.status_code == 400 and unproven.json()["error"] == "invalid_grant"
    assert rotated.status_code == 200 and rotated.json()["token_type"] == "DPoP"


def test_introspection_and_metadata_speak_dpop(client, cc_agent, holder, catalogue):
    from agentauth.identity.models import Agent
    from agentauth.oauth.registration import register_agent

    token = bound_token(client, cc_agent, holder)["access_token"]
    server, secret = register_agent(name="API", grant_types=["client_credentials"])
    Agent.objects.filter(pk=server.pk).update(is_resource_server=True)
    server.plain_secret = secret
    body = urlencode({"token": token})
    seen = client.post("/o/introspect/", body, content_type="application/x-www-form-urlencoded", **basic_auth(server))
    metadata = client.get("/.well-known/oauth-authorization-server").json()

    assert seen.json()["token_type"] == "DPoP" and seen.json()["cnf"]["jkt"] == dpop.thumbprint(holder.public)
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]


def test_dynamic_registration_takes_dpop_bound_access_tokens(client, catalogue):
    registered = client.post(
        "/o/register/",
        json.dumps({"client_name": "Bound", "grant_types": ["client_credentials"], "dpop_bound_access_tokens": True}),
        content_type="application/json",
    ).json()

    assert registered["dpop_bound_access_tokens"] is True


def test_an_api_that_requires_dpop_refuses_bearer_tokens(client, cc_agent, holder, settings):
    bearer = token_request(client, cc_agent).json()["access_token"]
    bound = bound_token(client, cc_agent, holder)["access_token"]
    settings.AGENTAUTH_API_REQUIRES_DPOP = True

    refused = call(bearer, scheme="Bearer")

    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("DPoP ")
    assert call(bound, holder.proof("GET", API_URL, token=bound)).status_code == 200
