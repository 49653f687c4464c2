"""Each portal page's main path in Chromium, with a screenshot of every page."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from agentauth.identity.models import Agent
from agentauth.oauth.registration import register_agent

from ..conftest import OAuthClient
from ..factories import UserFactory
from .test_pages import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def person(page, live_server, catalogue):
    user = UserFactory(username="grace")
    sign_in(page, live_server.url, "grace")
    page.wait_for_url(live_server.url + "/dashboard/")
    return user


def api_status(token):
    return Client().get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def test_connect_an_agent_narrow_it_and_cut_it_off(page, live_server, person, shoot):
    page.click("text=Connect my own agent")
    page.fill("#id_name", "Budget assistant")
    page.fill("#id_description", "Reads my documents and drafts a monthly budget.")
    page.check("input[name=scope][value='documents:read']")
    page.check("input[name=scope][value='documents:write']")
    shoot(page, "connect-agent")
    page.click("button:has-text('Connect agent')")
    page.wait_for_selector("#client-secret")
    shoot(page, "secret-shown-once")
    agent = Agent.objects.get(name="Budget assistant")
    agent.plain_secret = page.inner_text("#client-secret")
    token = OAuthClient(Client()).token({"grant_type": "client_credentials"}, agent).json()["access_token"]
    assert api_status(token) == 200

    page.click("text=Done, I saved it")
    page.wait_for_url(f"{live_server.url}/agents/{agent.client_id}/")
    page.uncheck("input[name=scope][value='documents:write']")
    page.click("button[name=save]")
    page.wait_for_selector("text=Removed at once")
    shoot(page, "agent-page")
    assert api_status(token) == 401

    page.goto(live_server.url + "/dashboard/")
    shoot(page, "dashboard")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button[name=revoke]")
    page.wait_for_selector("text=was cut off")
    fresh = OAuthClient(Client()).token({"grant_type": "client_credentials"}, agent)
    assert fresh.status_code in (400, 401)


def test_revoking_on_the_dashboard_makes_the_token_fail(page, live_server, person, shoot):
    agent, secret = register_agent(
        name="Mail sorter", owner=person, grant_types=["client_credentials"], grant_scopes=["documents:read"]
    )
    agent.plain_secret = secret
    token = OAuthClient(Client()).token({"grant_type": "client_credentials"}, agent).json()["access_token"]
    page.goto(live_server.url + "/dashboard/")

    page.on("dialog", lambda dialog: dialog.accept())
    page.click(f"[data-agent='{agent.client_id}'] button[name=revoke]")
    page.wait_for_selector("text=was cut off")

    assert api_status(token) == 401


def test_device_page_shows_the_agent_before_consent(page, live_server, person, shoot, device_agent):
    started = (
        Client()
        .post(
            "/o/device-authorization/",
            urlencode({"client_id": device_agent.client_id, "scope": "documents:read"}),
            content_type="application/x-www-form-urlencoded",
        )
        .json()
    )
    page.goto(live_server.url + "/device/")
    shoot(page, "device-code")
    page.fill("input[name=user_code]", started["user_code"].lower())
    page.click("button:has-text('Continue')")
    page.wait_for_selector("text=Headless agent")
    shoot(page, "device-consent")

    page.click("button[name=allow]")
    page.wait_for_selector("text=is connected")
    shoot(page, "device-done")


def test_history_and_password_reset_pages(page, live_server, person, shoot, catalogue):
    register_agent(name="Notes bot", owner=person, grant_types=["client_credentials"], grant_scopes=["documents:read"])
    page.goto(live_server.url + "/history/")
    assert "Notes bot" in page.inner_text("main")
    shoot(page, "history")
    from agentauth.identity.models import Agent
    from agentauth.monitoring.models import Alert

    notes_bot = Agent.objects.get(name="Notes bot")
    Alert.objects.create(
        user=person,
        agent=notes_bot,
        rule="rate_spike",
        severity="medium",
        summary="Notes bot made 240 calls in a minute (usually 3)",
    )
    page.goto(live_server.url + "/alerts/")
    assert "240 calls" in page.inner_text("main")
    shoot(page, "alerts")
    page.goto(live_server.url + "/security/")
    shoot(page, "security-review")

    context = page.context.browser.new_context()
    anonymous = context.new_page()
    anonymous.goto(live_server.url + "/accounts/password_reset/")
    shoot(anonymous, "password-reset")
    context.close()


@pytest.mark.catalogue("AP-08", "CS-04")
def test_hostile_agent_strings_never_run(page, live_server, person, shoot, catalogue):
    payload = (
        '<img src=x onerror="window.__pwned=1">"><svg onload="window.__pwned=1">'
        "</script><script>window.__pwned=1</script>"
    )
    agent, _ = register_agent(
        name="Portal Security Update" + payload,
        description=payload + "\u202e" + "z" * 20_000,
        owner=person,
        grant_types=["client_credentials", "authorization_code"],
        redirect_uris=["https://evil.test/cb"],
        grant_scopes=["documents:read"],
    )
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    for path in ("/dashboard/", f"/agents/{agent.client_id}/", "/history/"):
        page.goto(live_server.url + path)
        assert page.evaluate("window.__pwned") is None, path
    query = urlencode(
        {
            "response_type": "code",
            "client_id": agent.client_id,
            "redirect_uri": "https://evil.test/cb",
            "scope": "documents:read",
            "state": "s",
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        }
    )
    page.goto(f"{live_server.url}/o/authorize/?{query}")
    shoot(page, "consent-hostile-agent")

    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert "Self-registered" in page.inner_text("main")


@pytest.mark.catalogue("CS-02")
def test_an_evil_page_cannot_frame_the_consent_screen(page, live_server, person):
    page.set_content(f'<iframe id="victim" src="{live_server.url}/dashboard/" width="800" height="600"></iframe>')
    page.wait_for_timeout(500)

    frame = page.frame_locator("#victim")
    assert frame.locator("text=My agents").count() == 0
