"""private_key_jwt (RFC 7523 §2.2): agents that hold a key instead of a secret, and the assertions
an attacker would try instead."""

import base64
import hmac
import http.server
import io
import json
import threading
import time
import uuid
from urllib.parse import urlencode

import jwt
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from jwcrypto import jwk

from agentauth.oauth.client_keys import ASSERTION_TYPE
from agentauth.oauth.registration import register_agent

TOKEN_URL = django_settings.AGENTAUTH_ISSUER + "/o/token/"


class KeyHolder:
    def __init__(self, kid="key-1"):
        self.key = jwk.JWK.generate(kty="EC", crv="P-256", kid=kid)
        self.public = self.key.export_public(as_dict=True) | {"alg": "ES256", "use": "sig"}
        self.kid = kid

    @property
    def jwks(self):
        return {"keys": [self.public]}

    def assertion(self, client_id, *, aud=TOKEN_URL, lifetime=60, jti=None, sub=None, kid=None):
        now = int(time.time())
        claims = {"iss": client_id, "sub": sub or client_id, "aud": aud, "iat": now, "exp": now + lifetime}
        claims["jti"] = jti or uuid.uuid4().hex
        private = self.key.export_to_pem(private_key=True, password=None)
        return jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid or self.kid})


def _claims(client_id):
    now = int(time.time())
    return {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60, "jti": uuid.uuid4().hex}


def unsigned(client_id):
    return jwt.encode(_claims(client_id), None, algorithm="none", headers={"kid": "key-1"})


def hmac_with_the_public_key(holder, client_id):
    """The classic confusion attack, by hand (PyJWT itself refuses to sign it)."""

    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = (
        f"{b64(json.dumps({'alg': 'HS256', 'kid': 'key-1'}).encode())}.{b64(json.dumps(_claims(client_id)).encode())}"
    )
    secret = holder.key.export_to_pem()  # the public key, as a careless verifier might use it
    return f"{signing_input}.{b64(hmac.digest(secret, signing_input.encode(), 'sha256'))}"


@pytest.fixture
def holder():
    return KeyHolder()


@pytest.fixture
def keyed_agent(alice, catalogue, holder):
    agent, secret = register_agent(
        name="Keyed worker",
        owner=alice,
        grant_types=["client_credentials"],
        grant_scopes=["documents:read"],
        jwks=holder.jwks,
    )
    assert secret is None  # secret-free
    return agent


def token(client, assertion, **more):
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    return client.post("/o/token/", urlencode(data | more), content_type="application/x-www-form-urlencoded")


def test_an_agent_with_a_key_and_no_secret_gets_a_token(client, keyed_agent, holder):
    response = token(client, holder.assertion(keyed_agent.client_id))

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "documents:read"


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda h, cid: h.assertion(cid, aud="https://elsewhere.example/token"), id="wrong aud"),
        pytest.param(lambda h, cid: h.assertion(cid, lifetime=-30), id="expired"),
        pytest.param(lambda h, cid: h.assertion(cid, lifetime=3600), id="lives too long"),
        pytest.param(lambda h, cid: h.assertion(cid, sub="someone-else"), id="sub is not iss"),
        pytest.param(lambda h, cid: KeyHolder().assertion(cid), id="another key, same kid"),
        pytest.param(lambda h, cid: KeyHolder("other").assertion(cid), id="unknown kid"),
        pytest.param(lambda h, cid: h.assertion(cid) + "x", id="bad signature"),
        pytest.param(lambda h, cid: "not-a-jwt", id="garbage"),
        pytest.param(lambda h, cid: unsigned(cid), id="alg none"),
        pytest.param(lambda h, cid: hmac_with_the_public_key(h, cid), id="HS256 keyed with the public key"),
    ],
)
@pytest.mark.catalogue("CA-03")
def test_a_bad_assertion_is_invalid_client(client, keyed_agent, holder, spoil):
    response = token(client, spoil(holder, keyed_agent.client_id))

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


@pytest.mark.catalogue("CA-03")
def test_an_assertion_works_once(client, keyed_agent, holder):
    assertion = holder.assertion(keyed_agent.client_id)

    assert token(client, assertion).status_code == 200
    assert token(client, assertion).status_code == 401


def test_the_issuer_is_an_accepted_audience_too(client, keyed_agent, holder):
    assert (
        token(client, holder.assertion(keyed_agent.client_id, aud=django_settings.AGENTAUTH_ISSUER)).status_code == 200
    )


def test_a_key_agent_cannot_be_guessed_into_with_a_secret(client, keyed_agent):
    data = {"grant_type": "client_credentials", "client_id": keyed_agent.client_id, "client_secret": ""}
    response = client.post("/o/token/", urlencode(data), content_type="application/x-www-form-urlencoded")

    assert response.status_code == 401


class KeysServer(http.server.BaseHTTPRequestHandler):
    document = {}
    fetched = 0

    def do_GET(self):
        KeysServer.fetched += 1
        body = json.dumps(KeysServer.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def keys_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeysServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    KeysServer.fetched = 0
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()
    server.server_close()


def test_keys_at_a_jwks_uri_are_fetched_cached_and_refetched_on_rotation(
    client, alice, catalogue, holder, keys_server, settings
):
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    KeysServer.document = holder.jwks
    agent, _ = register_agent(
        name="Published keys",
        owner=alice,
        grant_types=["client_credentials"],
        grant_scopes=["documents:read"],
        jwks_uri=keys_server,
    )

    first = token(client, holder.assertion(agent.client_id))
    second = token(client, holder.assertion(agent.client_id))
    rotated = KeyHolder("key-2")
    KeysServer.document = rotated.jwks
    from django.core.cache import cache

    cache.set(f"agentauth:client-keys:{agent.client_id}", {"keys": holder.jwks["keys"], "at": 0}, 300)
    after_rotation = token(client, rotated.assertion(agent.client_id))

    assert first.status_code == second.status_code == after_rotation.status_code == 200
    assert KeysServer.fetched == 2


def test_a_jwks_uri_on_an_internal_address_is_never_fetched(client, alice, catalogue, holder, keys_server, settings):
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = []
    from agentauth.identity.models import Agent

    agent, _ = register_agent(name="Sneaky", owner=alice, grant_types=["client_credentials"], jwks=holder.jwks)
    Agent.objects.filter(pk=agent.pk).update(jwks={}, jwks_uri=keys_server.replace("http:", "https:"))

    assert token(client, holder.assertion(agent.client_id)).status_code == 401
    assert KeysServer.fetched == 0


def test_dynamic_registration_and_the_command_take_keys(client, alice, catalogue, holder, tmp_path):
    registered = client.post(
        "/o/register/",
        json.dumps(
            {
                "client_name": "Keyed",
                "grant_types": ["authorization_code"],
                "redirect_uris": ["https://a.example/cb"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": holder.jwks,
            }
        ),
        content_type="application/json",
    )
    private = dict(holder.key.export_private(as_dict=True))
    leaked = client.post(
        "/o/register/",
        json.dumps(
            {"client_name": "Leaky", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [private]}}
        ),
        content_type="application/json",
    )
    out, key_file = io.StringIO(), tmp_path / "jwks.json"
    key_file.write_text(json.dumps(holder.jwks))
    call_command(
        "register_agent",
        "--owner",
        "alice",
        "--name",
        "Cmd",
        "--grant-type",
        "client_credentials",
        "--jwks",
        str(key_file),
        stdout=out,
    )
    metadata = client.get("/.well-known/oauth-authorization-server").json()

    assert registered.status_code == 201 and "client_secret" not in registered.json()
    assert registered.json()["token_endpoint_auth_method"] == "private_key_jwt"
    assert leaked.status_code == 400
    assert json.loads(out.getvalue())["client_secret"] is None
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
