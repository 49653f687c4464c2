"""A real Chromium against a live server: the pages a person meets first."""

from urllib.parse import parse_qs, urlsplit

import pytest

from ..conftest import pkce_pair
from ..factories import UserFactory

pytestmark = pytest.mark.browser


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")


def test_home_leads_to_the_sign_in_page(page, live_server, shoot):
    page.goto(live_server.url + "/")

    assert page.url.startswith(live_server.url + "/accounts/login/")
    assert page.locator("h1").inner_text() == "Sign in"
    assert page.locator("link[rel=stylesheet]").count() == 1
    shoot(page, "sign-in")
    assert page.errors == []


def test_signing_in_shows_the_dashboard(page, live_server, shoot, db):
    UserFactory(username="erin")

    sign_in(page, live_server.url, "erin")

    page.wait_for_url(live_server.url + "/dashboard/")
    assert page.locator("h1").inner_text() == "My agents"
    shoot(page, "dashboard-empty")


def test_consent_with_one_switch_off_gives_a_token_without_that_scope(page, live_server, shoot, web_agent, client):
    UserFactory(username="frank")
    sign_in(page, live_server.url, "frank")
    page.wait_for_url(live_server.url + "/dashboard/")
    verifier, challenge = pkce_pair()
    query = (
        f"response_type=code&client_id={web_agent.client_id}&redirect_uri=https%3A%2F%2Fagent.example%2Fcb"
        f"&scope=documents%3Aread+documents%3Awrite&state=st&code_challenge={challenge}&code_challenge_method=S256"
    )
    page.goto(f"{live_server.url}/o/authorize/?{query}")
    shoot(page, "consent")
    redirects = []
    page.on(
        "request", lambda request: request.url.startswith("https://agent.example/") and redirects.append(request.url)
    )

    page.locator("input[name=scope][value='documents:write']").uncheck()
    with page.expect_request("https://agent.example/**"):
        page.click("button[name=allow]")

    assert redirects, "the browser was not sent back to the agent"
    code = parse_qs(urlsplit(redirects[0]).query)["code"][0]
    from urllib.parse import urlencode

    token = client.post(
        "/o/token/",
        urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://agent.example/cb",
                "code_verifier": verifier,
            }
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=__import__("tests.conftest", fromlist=["basic_auth"]).basic_auth(web_agent)[
            "HTTP_AUTHORIZATION"
        ],
    )
    assert token.json()["scope"] == "documents:read"
