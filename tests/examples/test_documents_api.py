import base64
import hashlib
import hmac
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from jwcrypto import jwk, jwt
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from agentauth.identity import keys
from agentauth.resource.authentication import JWTAuthentication

from ..conftest import OAuthClient


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def token(oauth, cc_agent):
    return oauth.token({"grant_type": "client_credentials", "scope": "documents:read"}, cc_agent).json()["access_token"]


@pytest.fixture
def write_token(oauth, cc_agent):
    response = oauth.token({"grant_type": "client_credentials", "scope": "documents:read documents:write"}, cc_agent)
    return response.json()["access_token"]


def test_agent_writes_and_reads_its_persons_documents(client, write_token, alice, bob, cc_agent):
    created = client.post(
        "/api/v1/documents/", {"title": "Plan", "body": "b"}, content_type="application/json", **bearer(write_token)
    )
    listed = client.get("/api/v1/documents/", **bearer(write_token))

    assert created.status_code == 201
    assert created.json()["created_by_agent"] == cc_agent.client_id
    assert [doc["title"] for doc in listed.json()["results"]] == ["Plan"]
    assert alice.documents.count() == 1 and bob.documents.count() == 0


def test_a_valid_token_costs_no_database_query(token):
    request = APIRequestFactory().get("/api/v1/documents/", **bearer(token))
    JWTAuthentication().authenticate(Request(request))  # warm: the first call loads the revocation list

    with CaptureQueriesContext(connection) as queries:
        principal, claims = JWTAuthentication().authenticate(Request(request))

    assert len(queries) == 0
    assert claims.has_scopes(["documents:read"])


@pytest.mark.catalogue("SC-03")
def test_missing_scope_is_403_insufficient_scope(client, token):
    response = client.post("/api/v1/documents/", {"title": "x"}, content_type="application/json", **bearer(token))

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert 'scope="documents:write"' in response["WWW-Authenticate"]


def test_no_token_is_401_pointing_to_the_resource_metadata(client):
    response = client.get("/api/v1/documents/")

    assert response.status_code == 401
    assert "resource_metadata=" in response["WWW-Authenticate"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.catalogue("FZ-05")
def test_token_in_the_query_string_is_refused(client, token):
    response = client.get(f"/api/v1/documents/?access_token={token}")

    assert response.status_code in (400, 401)


def forge(claims_change=None, header_change=None, key=None, token=None):
    parsed = jwt.JWT()
    parsed.deserialize(token)
    header = dict(parsed.token.jose_header)
    claims = json.loads(parsed.token.objects["payload"])
    claims.update(claims_change or {})
    header.update(header_change or {})
    forged = jwt.JWT(header=header, claims=claims)
    forged.make_signed_token(key or jwk.JWK.generate(kty="EC", crv="P-256"))
    return forged.serialize()


def b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.catalogue("JWT-01", "JWT-02", "JWT-04")
def test_forged_tokens_get_401_invalid_token(client, token):
    header_b64, payload_b64, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))
    public_pem = keys.verification_keys().get_key(keys.signing_key()[0]).export_to_pem()
    hmac_header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": keys.signing_key()[0]}).encode())
    hmac_signature = b64(hmac.new(public_pem, f"{hmac_header}.{payload_b64}".encode(), hashlib.sha256).digest())
    escalated = b64(json.dumps(payload | {"scope": "documents:read documents:write"}).encode())
    forgeries = {
        "alg none": f"{b64(json.dumps({'alg': 'none', 'typ': 'at+jwt'}).encode())}.{payload_b64}.",
        "alg NONE": f"{b64(json.dumps({'alg': 'NONE', 'typ': 'at+jwt'}).encode())}.{payload_b64}.",
        "hmac with the public key": f"{hmac_header}.{payload_b64}.{hmac_signature}",
        "attacker key, real kid": forge(token=token),
        "scope flipped": f"{header_b64}.{escalated}.{signature}",
        "no signature": f"{header_b64}.{payload_b64}.",
        "jku": forge(header_change={"jku": "https://canary.test/jwks"}, token=token),
        "embedded jwk": forge(header_change={"jwk": {"kty": "EC"}}, token=token),
        "path kid": forge(header_change={"kid": "../../../../dev/null"}, token=token),
        "sql kid": forge(header_change={"kid": "x' OR '1'='1"}, token=token),
        "huge kid": forge(header_change={"kid": "k" * 100_000}, token=token),
        "typ JWT": forge(header_change={"typ": "JWT"}, token=token),
        "garbage": "not.a.jwt",
        "dots": "." * 10_000,
        "huge": "a" * 500_000 + ".x.y",
    }

    for name, forged in forgeries.items():
        response = client.get("/api/v1/documents/", **bearer(forged))
        assert response.status_code == 401, name
        assert 'error="invalid_token"' in response["WWW-Authenticate"], name


@pytest.mark.catalogue("JWT-03")
def test_expired_and_future_tokens_are_refused(client, token):
    _, key = keys.signing_key()

    expired = forge({"exp": 1_000_000_000, "iat": 999_999_000}, key=key, token=token)
    future = forge({"iat": 4_000_000_000, "exp": 4_000_000_600}, key=key, token=token)

    assert client.get("/api/v1/documents/", **bearer(expired)).status_code == 401
    assert client.get("/api/v1/documents/", **bearer(future)).status_code == 401


@pytest.mark.catalogue("JWT-04")
def test_a_token_for_another_audience_is_refused(client, token):
    _, key = keys.signing_key()

    other = forge({"aud": "https://rs-b.example/"}, key=key, token=token)

    assert client.get("/api/v1/documents/", **bearer(other)).status_code == 401


@pytest.mark.catalogue("JWT-04")
def test_a_refresh_token_is_not_an_access_token(alice_oauth, web_agent, client):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")

    response = client.get("/api/v1/documents/", **bearer(tokens["refresh_token"]))

    assert response.status_code == 401


@pytest.mark.catalogue("SC-04")
def test_persons_see_only_their_own_documents(client, catalogue, alice, bob):
    from agentauth.oauth.registration import register_agent

    agent, secret = register_agent(
        name="Bob's", owner=bob, grant_types=["client_credentials"], grant_scopes=["documents:read"]
    )
    agent.plain_secret = secret
    alice.documents.create(title="Alice's secret")
    bob_token = OAuthClient(client).token({"grant_type": "client_credentials"}, agent).json()["access_token"]

    response = client.get("/api/v1/documents/", **bearer(bob_token))

    assert response.json()["results"] == []
