"""Issue 17's findings from a spec-strict client, each reproduced at the protocol level."""

import subprocess
import sys
from urllib.parse import urlencode

import pytest
from django.test import Client

from agentauth.identity.models import SigningKey
from agentauth.oauth.registration import register_agent

from ..conftest import basic_auth, pkce_pair, query_of
from ..factories import UserFactory

FORM = "application/x-www-form-urlencoded"


def test_the_development_issuer_follows_host_and_port():
    code = "from django.conf import settings; print(settings.AGENTAUTH_ISSUER)"
    environment = {"HOST": "127.0.0.1", "PORT": "8765", "DEBUG": "True", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='agentauth.settings'; {code}"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    assert out.stdout.strip() == "http://127.0.0.1:8765"


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/api/"])
def test_resource_metadata_at_the_path_inserted_url_names_that_resource(client, catalogue, settings, path):
    document = client.get(path)

    assert document.status_code == 200
    assert document.json()["resource"] == settings.AGENTAUTH_API_AUDIENCE
    assert client.get("/.well-known/oauth-protected-resource/nothing-here").status_code == 404


def test_a_401_from_the_api_points_at_the_resources_own_metadata(client, settings):
    response = client.get("/api/v1/documents/")

    expected = settings.AGENTAUTH_ISSUER + "/.well-known/oauth-protected-resource/api/"
    assert response.status_code == 401 and f'resource_metadata="{expected}"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/", "/o/introspect/", "/o/device-authorization/"])
def test_a_bad_basic_client_gets_a_basic_challenge(client, cc_agent, path):
    cc_agent.plain_secret = "wrong"
    data = {"grant_type": "client_credentials", "token": "x", "scope": "documents:read"}

    response = client.post(path, urlencode(data), content_type=FORM, **basic_auth(cc_agent))

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"] == 'Basic realm="agentauth"'


def test_deny_and_a_plain_challenge_redirect_with_iss(alice_oauth, web_agent, settings):
    verifier, challenge = pkce_pair()
    page = alice_oauth.authorize(web_agent, "documents:read", challenge=challenge)
    denied = alice_oauth.consent(page, ["documents:read"], allow=False)
    plain = alice_oauth.authorize(web_agent, "documents:read", challenge="x" * 43, code_challenge_method="plain")

    for response in (denied, plain):
        assert response.status_code == 302
        assert query_of(response)["iss"] == settings.AGENTAUTH_ISSUER and "error" in query_of(response)


@pytest.fixture
def confidential_device_agent(catalogue):
    agent, secret = register_agent(
        name="Set-top agent",
        grant_types=["urn:ietf:params:oauth:grant-type:device_code"],
        allowed_scopes=["documents:read", "documents:write"],
    )
    agent.plain_secret = secret
    return agent


def test_the_device_endpoint_takes_media_type_parameters_and_basic_alone(client, confidential_device_agent):
    response = client.post(
        "/o/device-authorization/",
        urlencode({"scope": "documents:read"}),
        content_type=f"{FORM};charset=UTF-8",
        **basic_auth(confidential_device_agent),
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verification_uri_complete"] == f"{body['verification_uri']}?user_code={body['user_code']}"


def test_an_omitted_scope_is_the_documented_default_never_invalid_scope(client, confidential_device_agent, web_agent):
    body = urlencode({"client_id": confidential_device_agent.client_id})
    device = client.post(
        "/o/device-authorization/", body, content_type=FORM, **basic_auth(confidential_device_agent)
    ).json()
    verifier, challenge = pkce_pair()
    person = Client()
    person.force_login(UserFactory(username="dora"))
    consent = person.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": web_agent.client_id,
            "redirect_uri": "https://agent.example/cb",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )

    assert "device_code" in device
    assert consent.status_code == 200 and "Read your documents" in consent.text


def test_the_jwks_is_never_empty(client, db):
    assert not SigningKey.objects.exists()

    assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 1
