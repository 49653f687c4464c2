"""Hostile or malformed input at the token, revocation and introspection endpoints: a clean 4xx."""

import base64
from urllib.parse import urlencode

import pytest

from ..conftest import pkce_pair


def form(client, path, data, **headers):
    return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded", **headers)


@pytest.mark.catalogue("AC-07")
def test_a_client_credentials_agent_cannot_redeem_codes(oauth, cc_agent):
    response = oauth.token(
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://a/cb", "code_verifier": "v" * 43},
        cc_agent,
    )

    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


@pytest.mark.catalogue("AC-07")
def test_a_public_agent_cannot_use_client_credentials(client, public_agent):
    response = form(client, "/o/token/", {"grant_type": "client_credentials", "client_id": public_agent.client_id})

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


@pytest.mark.catalogue("PK-02")
@pytest.mark.parametrize("verifier", ["v" * 42, "v" * 129, "a+b" * 15, "a=b" * 15, "a b" * 15])
def test_malformed_verifiers_are_refused(alice_oauth, web_agent, verifier):
    code, _ = alice_oauth.code_flow(web_agent, "documents:read")

    response = alice_oauth.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://agent.example/cb",
            "code_verifier": verifier,
        },
        web_agent,
    )

    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "invalid_grant")


@pytest.mark.catalogue("CA-01")
@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/", "/o/introspect/"])
def test_bad_client_credentials_are_invalid_client(client, cc_agent, path):
    wrong = base64.b64encode(f"{cc_agent.client_id}:wrong".encode()).decode()
    unknown = base64.b64encode(b"nobody:secret").decode()

    for header in (f"Basic {wrong}", f"Basic {unknown}"):
        response = form(client, path, {"grant_type": "client_credentials", "token": "x"}, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, (path, header)
        assert response.json()["error"] == "invalid_client"


@pytest.mark.catalogue("CA-02")
@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + "A" * 8000,
        "Bearer xyz",
        "Basic",
    ],
)
def test_malformed_basic_auth_is_401_never_500(client, cc_agent, header):
    response = form(client, "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=header)

    assert response.status_code in (400, 401)


@pytest.mark.catalogue("CA-02")
def test_two_authentication_methods_at_once_are_refused(client, cc_agent):
    credentials = base64.b64encode(f"{cc_agent.client_id}:{cc_agent.plain_secret}".encode()).decode()

    response = form(
        client,
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": cc_agent.client_id, "client_secret": cc_agent.plain_secret},
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )

    assert response.status_code in (400, 401)


@pytest.mark.catalogue("FZ-03")
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"grant_type": "client_credentials"}', "application/json"),
        ("", "application/x-www-form-urlencoded"),
        ("grant_type=client_credentials%00", "application/x-www-form-urlencoded"),
        ("grant_type=%2520client_credentials", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/x-www-form-urlencoded; charset=utf-16"),
    ],
)
def test_odd_token_request_bodies_are_400(client, cc_agent, body, content_type):
    credentials = base64.b64encode(f"{cc_agent.client_id}:{cc_agent.plain_secret}".encode()).decode()

    response = client.post("/o/token/", body, content_type=content_type, HTTP_AUTHORIZATION=f"Basic {credentials}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


@pytest.mark.catalogue("FZ-01")
@pytest.mark.parametrize("name", ["grant_type", "scope", "code", "refresh_token", "client_id", "redirect_uri"])
def test_duplicated_parameters_are_refused(oauth, cc_agent, name):
    from django.test import Client

    credentials = base64.b64encode(f"{cc_agent.client_id}:{cc_agent.plain_secret}".encode()).decode()
    body = f"grant_type=client_credentials&{name}=a&{name}=b"

    response = Client().post(
        "/o/token/", body, content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Basic {credentials}"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.catalogue("FZ-05")
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_reaches_the_token_endpoint(client, method):
    assert getattr(client, method)("/o/token/").status_code == 405


@pytest.mark.catalogue("FZ-05")
def test_credentials_in_the_query_string_are_refused(client, cc_agent):
    response = form(
        client,
        f"/o/token/?client_secret={cc_agent.plain_secret}&client_id={cc_agent.client_id}",
        {"grant_type": "client_credentials"},
    )

    assert response.status_code in (400, 401)


@pytest.mark.catalogue("RV-03")
def test_introspection_needs_client_authentication(client, db):
    assert form(client, "/o/introspect/", {"token": "x"}).status_code == 401


@pytest.mark.catalogue("CS-03")
def test_approval_prompt_auto_still_shows_the_consent_screen(alice_oauth, web_agent):
    alice_oauth.tokens_for(web_agent, "documents:read")
    _, challenge = pkce_pair()

    again = alice_oauth.authorize(web_agent, "documents:read", challenge=challenge, approval_prompt="auto")

    assert again.status_code == 200
    assert 'name="allow"' in again.content.decode()


@pytest.mark.catalogue("CA-03")
def test_jwt_client_assertions_are_not_accepted(client, cc_agent):
    response = form(
        client,
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": cc_agent.client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
        },
    )
    metadata = client.get("/.well-known/oauth-authorization-server").json()

    assert response.status_code == 401
    # private_key_jwt is offered now (tests/agentauth/test_private_key_jwt.py has the rest of CA-03);
    # an unsigned assertion never authenticates anyone.
    assert "none" not in metadata["token_endpoint_auth_signing_alg_values_supported"]


@pytest.mark.catalogue("FZ-04")
@pytest.mark.parametrize("value", ["a\r\nLocation: https://evil.test", "a\x00b", "x" * 10_000, "read\nexecute"])
def test_control_characters_in_parameters_never_reach_a_location_header(alice_oauth, web_agent, value):
    _, challenge = pkce_pair()

    state = alice_oauth.authorize(web_agent, "documents:read", challenge=challenge, state=value)
    scope = alice_oauth.authorize(web_agent, value, challenge=challenge)

    for response in (state, scope):
        assert response.status_code in (200, 302, 400)
        assert "\r" not in response.get("Location", "") and "\n" not in response.get("Location", "")


@pytest.mark.catalogue("RL-04")
def test_forwarded_for_headers_do_not_reset_the_limits(oauth, cc_agent, settings):
    settings.AGENTAUTH_RATE_LIMITS = {"default": {"token_ip": "2/min"}}

    statuses = [
        oauth.token({"grant_type": "client_credentials"}, cc_agent, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]

    assert statuses == [200, 200, 429]
