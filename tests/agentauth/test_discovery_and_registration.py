import base64
import io
import json
from urllib.parse import urlencode

import pytest
from django.core.management import call_command

from agentauth.identity import keys
from agentauth.identity.models import Agent, SigningKey


def test_metadata_lists_every_endpoint(client, catalogue, settings):
    response = client.get("/.well-known/oauth-authorization-server")

    metadata = response.json()
    issuer = settings.AGENTAUTH_ISSUER
    assert metadata["issuer"] == issuer
    for name, path in {
        "authorization_endpoint": "/o/authorize/",
        "token_endpoint": "/o/token/",
        "device_authorization_endpoint": "/o/device-authorization/",
        "registration_endpoint": "/o/register/",
        "introspection_endpoint": "/o/introspect/",
        "revocation_endpoint": "/o/revoke_token/",
        "jwks_uri": "/.well-known/jwks.json",
        "backchannel_authentication_endpoint": "/o/bc-authorize",
    }.items():
        assert metadata[name] == issuer + path
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert set(metadata["grant_types_supported"]) == {
        "authorization_code",
        "client_credentials",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:openid:params:grant-type:ciba",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    }
    assert metadata["backchannel_token_delivery_modes_supported"] == ["poll", "ping"]
    assert metadata["authorization_details_types_supported"] == ["payment_initiation"]
    assert "documents:read" in metadata["scopes_supported"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_protected_resource_metadata(client, catalogue, settings):
    metadata = client.get("/.well-known/oauth-protected-resource").json()

    assert metadata["resource"] == settings.AGENTAUTH_API_AUDIENCE
    assert metadata["authorization_servers"] == [settings.AGENTAUTH_ISSUER]
    assert metadata["bearer_methods_supported"] == ["header"]


@pytest.mark.catalogue("JWT-05")
def test_key_rotation_keeps_old_tokens_valid_and_publishes_both_keys(client, oauth, cc_agent):
    old = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    old_kid = SigningKey.objects.get().kid

    call_command("rotate_signing_key", stdout=io.StringIO())
    keys.clear_cache()
    new = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    published = {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}

    assert len(published) == 2 and old_kid in published
    assert client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 200
    assert client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 200
    SigningKey.objects.filter(kid=old_kid).update(retired_at="2000-01-01T00:00:00Z")
    keys.clear_cache()
    assert client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 401


def test_private_keys_are_encrypted_at_rest(db):
    keys.signing_key()

    stored = SigningKey.objects.get()
    assert "PRIVATE KEY" not in stored.encrypted_private_key
    assert "d" not in stored.public_jwk  # the private scalar is never published


def register(client, metadata, **headers):
    return client.post("/o/register/", json.dumps(metadata), content_type="application/json", **headers)


def test_dynamic_registration_creates_an_agent_that_acts_for_nobody(client, catalogue):
    response = register(
        client,
        {
            "client_name": "Research bot",
            "redirect_uris": ["https://bot.example/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "documents:read",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    agent = Agent.objects.get(client_id=body["client_id"])
    assert body["client_secret"] and agent.client_secret != body["client_secret"]
    assert agent.user is None and agent.registered_via == "api" and agent.kind == "byo"
    assert agent.scope_names() == ["documents:read"]
    credentials = base64.b64encode(f"{body['client_id']}:{body['client_secret']}".encode()).decode()
    token = client.post(
        "/o/token/",
        urlencode({"grant_type": "client_credentials"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )
    assert token.status_code in (400, 401)


@pytest.mark.catalogue("RU-06")
@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["javascript:alert(1)"], "client_name": "x"}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://evil.example/cb"], "client_name": "x"}, "invalid_redirect_uri"),
        ({"redirect_uris": "https://a.example/cb", "client_name": "x"}, "invalid_redirect_uri"),
        (
            {"redirect_uris": ["https://a.example/cb"], "client_name": "x", "grant_types": ["password"]},
            "invalid_client_metadata",
        ),
        (
            {"redirect_uris": ["https://a.example/cb"], "client_name": "x", "grant_types": ["implicit"]},
            "invalid_client_metadata",
        ),
        ({"redirect_uris": ["https://a.example/cb"], "client_name": "x", "scope": "admin"}, "invalid_client_metadata"),
        ({"redirect_uris": ["https://a.example/cb"], "client_name": 5}, "invalid_client_metadata"),
        ([1, 2], "invalid_client_metadata"),
    ],
)
def test_registration_refuses_bad_metadata(client, catalogue, metadata, error):
    response = register(client, metadata)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert not Agent.objects.exists()


def test_registration_needs_the_initial_access_token_in_production(client, catalogue, settings):
    settings.AGENTAUTH_OPEN_REGISTRATION = False
    settings.AGENTAUTH_REGISTRATION_TOKEN = "s3cret-initial-token"
    metadata = {"client_name": "x", "redirect_uris": ["https://a.example/cb"]}

    refused = register(client, metadata)
    wrong = register(client, metadata, HTTP_AUTHORIZATION="Bearer nope")
    accepted = register(client, metadata, HTTP_AUTHORIZATION="Bearer s3cret-initial-token")

    assert refused.status_code == 401 and wrong.status_code == 401
    assert accepted.status_code == 201


def test_register_agent_command_prints_credentials(alice, catalogue, capsys):
    call_command(
        "register_agent",
        "--owner",
        "alice",
        "--name",
        "Script",
        "--grant-type",
        "client_credentials",
        "--scope",
        "documents:read documents:write",
    )

    output = json.loads(capsys.readouterr().out)
    agent = Agent.objects.get(client_id=output["client_id"])
    assert output["client_secret"] and agent.user == alice
    assert agent.grants.get().scopes == ["documents:read", "documents:write"]


def introspect(client, agent, token):
    credentials = base64.b64encode(f"{agent.client_id}:{agent.plain_secret}".encode()).decode()
    return client.post(
        "/o/introspect/",
        urlencode({"token": token}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )


def test_introspection_is_for_resource_servers_only(client, oauth, cc_agent, catalogue):
    from agentauth.oauth.registration import register_agent

    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    server, secret = register_agent(name="Resource server", grant_types=["client_credentials"])
    server.plain_secret = secret

    refused = introspect(client, server, token)
    Agent.objects.filter(pk=server.pk).update(is_resource_server=True)
    active = introspect(client, server, token)
    junk = introspect(client, server, "junk")

    assert refused.status_code == 403
    assert active.json()["active"] is True and active.json()["client_id"] == cc_agent.client_id
    assert junk.json() == {"active": False}


def test_health_and_readiness(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readiness_names_what_is_down(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert "redis" in response.json()["down"]


def test_a_public_policy_lets_public_clients_register_without_a_token_a_few_per_address(client, catalogue, settings):
    settings.AGENTAUTH_OPEN_REGISTRATION = False
    settings.AGENTAUTH_REGISTRATION = "public"
    settings.AGENTAUTH_REGISTRATION_TOKEN = "s3cret-initial-token"
    limits = settings.AGENTAUTH_RATE_LIMITS
    settings.AGENTAUTH_RATE_LIMITS = {**limits, "default": {**limits["default"], "register_ip": "2/hour"}}
    public = {
        "client_name": "MCP client",
        "redirect_uris": ["http://127.0.0.1:5000/cb"],
        "token_endpoint_auth_method": "none",
    }
    confidential = {"client_name": "x", "redirect_uris": ["https://a.example/cb"]}

    answers = [register(client, public).status_code for _ in range(3)]
    refused = register(client, confidential)

    assert answers == [201, 201, 429]
    assert refused.status_code == 401 and "confidential" in refused.json()["error_description"]
    agent = Agent.objects.filter(name="MCP client").first()
    assert agent.registration_source == "dcr" and not agent.verified


def test_production_admits_nobody_without_the_token_by_default(client, catalogue, settings):
    settings.AGENTAUTH_OPEN_REGISTRATION = False
    public = {"client_name": "x", "redirect_uris": ["http://127.0.0.1:5000/cb"], "token_endpoint_auth_method": "none"}
    assert register(client, public).status_code == 401


def test_an_admin_can_mark_an_agent_verified(client, catalogue, admin_user, web_agent):
    client.force_login(admin_user)
    client.post("/admin/agentauth/agent/", {"action": "vouch", "_selected_action": [web_agent.pk]})
    web_agent.refresh_from_db()
    assert web_agent.verified
