from urllib.parse import urlencode

import pytest

from agentauth.identity.models import DeviceAuthorization

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def post_form(client, path, data):
    return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded")


def start(client, agent, scope="documents:read"):
    response = post_form(client, "/o/device-authorization/", {"client_id": agent.client_id, "scope": scope})
    assert response.status_code == 200, response.content
    return response.json()


def poll(client, agent, device_code):
    return post_form(
        client, "/o/token/", {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": agent.client_id}
    )


def enter_code(client, user_code):
    return client.post("/device/", {"user_code": user_code})


@pytest.mark.catalogue("DF-01")
def test_device_flow_end_to_end(client, device_agent, alice):
    started = start(client, device_agent, "documents:read documents:write")
    assert started["verification_uri"].endswith("/device/")
    assert poll(client, device_agent, started["device_code"]).json()["error"] == "authorization_pending"

    client.force_login(alice)
    page = enter_code(client, started["user_code"].lower())
    assert page.status_code == 200
    assert "Headless agent" in page.content.decode()
    decided = client.post(
        "/device/", {"request": page.context["signed_request"], "scope": ["documents:read"], "allow": "1"}
    )
    assert decided.status_code == 200
    DeviceAuthorization.objects.update(polled_at="2000-01-01T00:00:00Z")
    tokens = poll(client, device_agent, started["device_code"])

    assert tokens.status_code == 200, tokens.content
    assert tokens.json()["scope"] == "documents:read"
    api = client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access_token']}")
    assert api.status_code == 200
    assert poll(client, device_agent, started["device_code"]).json()["error"] == "invalid_grant"


@pytest.mark.catalogue("DF-01")
def test_polling_too_fast_slows_the_agent_down(client, device_agent):
    started = start(client, device_agent)

    first = poll(client, device_agent, started["device_code"])
    second = poll(client, device_agent, started["device_code"])

    assert first.json()["error"] == "authorization_pending"
    assert second.json()["error"] == "slow_down"
    assert DeviceAuthorization.objects.get().interval >= started.get("interval", 5) + 5


def test_denied_device_code_answers_access_denied(client, device_agent, alice):
    started = start(client, device_agent)
    client.force_login(alice)
    page = enter_code(client, started["user_code"])

    client.post("/device/", {"request": page.context["signed_request"], "deny": "1"})
    DeviceAuthorization.objects.update(polled_at="2000-01-01T00:00:00Z")

    assert poll(client, device_agent, started["device_code"]).json()["error"] == "access_denied"


def test_expired_device_code_answers_expired_token(client, device_agent):
    started = start(client, device_agent)
    DeviceAuthorization.objects.update(expires="2000-01-01T00:00:00Z")

    assert poll(client, device_agent, started["device_code"]).json()["error"] == "expired_token"


@pytest.mark.catalogue("DF-03")
def test_device_code_of_another_agent_is_invalid_grant(client, device_agent, catalogue):
    from agentauth.oauth.registration import register_agent

    other, _ = register_agent(name="Other", grant_types=[DEVICE_GRANT], confidential=False)
    started = start(client, device_agent)

    assert poll(client, other, started["device_code"]).json()["error"] == "invalid_grant"


def test_unknown_user_code_shows_an_error_and_no_agent(client, alice, device_agent):
    client.force_login(alice)

    response = enter_code(client, "ZZZZZZZZ")

    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_device_authorization_validates_scopes(client, device_agent):
    response = post_form(client, "/o/device-authorization/", {"client_id": device_agent.client_id, "scope": "admin"})

    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


@pytest.mark.catalogue("DF-04")
def test_a_device_code_is_decided_once(client, device_agent, alice, bob):
    started = start(client, device_agent)
    client.force_login(alice)
    page = enter_code(client, started["user_code"])
    client.post("/device/", {"request": page.context["signed_request"], "scope": ["documents:read"], "allow": "1"})

    client.force_login(bob)
    again = enter_code(client, started["user_code"])

    assert again.status_code == 400
    assert DeviceAuthorization.objects.get().user == alice
