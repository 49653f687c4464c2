"""Every flow through a live server, driven by an independent OAuth client (Authlib) that knows
only the issuer URL, with a second HTTP session playing the person at the consent screen."""

import re
import time

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from ..factories import PASSWORD, UserFactory


@pytest.fixture
def issuer(live_server, settings):
    """Point every issuer-derived setting at the live server."""
    url = live_server.url
    settings.AGENTAUTH_ISSUER = url
    settings.AGENTAUTH_API_AUDIENCE = f"{url}/api/"
    settings.OAUTH2_PROVIDER = settings.OAUTH2_PROVIDER | {
        "OIDC_ISS_ENDPOINT": url,
        "OAUTH_DEVICE_VERIFICATION_URI": f"{url}/device/",
        "ALWAYS_RELOAD_OAUTHLIB_CORE": True,  # DOT caches the server, and its device URI, per view class
        "OAUTH2_PROTECTED_RESOURCE_IDENTIFIER": f"{url}/api/",
        "OAUTH2_PROTECTED_RESOURCE_AUTHORIZATION_SERVERS": [url],
    }
    from agentauth.identity.seed import seed_scopes

    seed_scopes()
    return url


@pytest.fixture
def person(issuer):
    UserFactory(username="carol")
    session = requests.Session()
    login_page = session.get(f"{issuer}/accounts/login/")
    assert login_page.status_code == 200
    signed_in = session.post(
        f"{issuer}/accounts/login/",
        data={"username": "carol", "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert signed_in.status_code == 302
    return session


def consent(session, page, checked):
    assert page.status_code == 200, page.text[:500]
    signed = re.search(r'name="request" value="([^"]+)"', page.text).group(1)
    return session.post(
        page.url.split("?")[0],
        data={"request": signed, "scope": checked, "allow": "1", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )


def discover(issuer):
    metadata = requests.get(f"{issuer}/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == issuer
    return metadata


def test_third_party_client_discovers_registers_consents_calls_refreshes_and_is_cut_off(issuer, person):
    metadata = discover(issuer)
    registered = requests.post(
        metadata["registration_endpoint"],
        json={
            "client_name": "Authlib agent",
            "redirect_uris": ["https://agent.example/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
        },
    ).json()
    agent = OAuth2Session(
        registered["client_id"],
        registered["client_secret"],
        scope="documents:read documents:write",
        redirect_uri="https://agent.example/cb",
        code_challenge_method="S256",
    )
    verifier = generate_token(48)
    url, state = agent.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)

    answer = consent(person, person.get(url), ["documents:read"])
    assert answer.status_code == 302
    assert f"iss={requests.utils.quote(issuer, safe='')}" in answer.headers["Location"]
    token = agent.fetch_token(
        metadata["token_endpoint"], authorization_response=answer.headers["Location"], code_verifier=verifier
    )
    assert token["scope"] == "documents:read"
    api = f"{issuer}/api/v1/documents/"
    assert agent.get(api).status_code == 200
    assert agent.post(api, json={"title": "no"}).status_code == 403

    agent.scope = token["scope"]  # a refresh may not ask for more than was granted (RFC 6749 §6)
    refreshed = agent.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert agent.get(api).status_code == 200

    agent.revoke_token(metadata["revocation_endpoint"], token=refreshed["access_token"])
    started = time.monotonic()
    while agent.get(api).status_code != 401:
        assert time.monotonic() - started < 1.0, "revocation took longer than a second"
        time.sleep(0.05)


def test_device_flow_through_the_live_server(issuer, person):
    metadata = discover(issuer)
    registered = requests.post(
        metadata["registration_endpoint"],
        json={
            "client_name": "TV agent",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        },
    ).json()
    client_id = registered["client_id"]
    started = requests.post(
        metadata["device_authorization_endpoint"], data={"client_id": client_id, "scope": "documents:read"}
    ).json()
    page = person.post(
        started["verification_uri"],
        data={"user_code": started["user_code"], "csrfmiddlewaretoken": person.cookies["csrftoken"]},
    )
    assert "TV agent" in page.text
    signed = re.search(r'name="request" value="([^"]+)"', page.text).group(1)
    done = person.post(
        started["verification_uri"],
        data={
            "request": signed,
            "scope": "documents:read",
            "allow": "1",
            "csrfmiddlewaretoken": person.cookies["csrftoken"],
        },
    )
    assert done.status_code == 200

    token = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started["device_code"],
            "client_id": client_id,
        },
    ).json()
    assert token["scope"] == "documents:read"
    api = requests.get(f"{issuer}/api/v1/documents/", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert api.status_code == 200


def test_client_credentials_through_the_live_server(issuer):
    import io
    import json

    from django.core.management import call_command

    UserFactory(username="dave")
    out = io.StringIO()
    call_command(
        "register_agent",
        "--owner",
        "dave",
        "--name",
        "Cron",
        "--grant-type",
        "client_credentials",
        "--scope",
        "documents:read",
        stdout=out,
    )
    credentials = json.loads(out.getvalue())
    metadata = discover(issuer)

    agent = OAuth2Session(credentials["client_id"], credentials["client_secret"])
    token = agent.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    unowned = requests.post(
        metadata["registration_endpoint"], json={"client_name": "Nobody's", "grant_types": ["client_credentials"]}
    ).json()
    refused = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "client_credentials"},
        auth=(unowned["client_id"], unowned["client_secret"]),
    )

    assert agent.get(f"{issuer}/api/v1/documents/").status_code == 200
    assert token["scope"] == "documents:read"
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
