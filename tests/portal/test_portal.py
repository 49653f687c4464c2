import json

import pytest
from django.test import Client

from agentauth.consent.models import Grant, GrantChange
from agentauth.identity.models import Agent
from agentauth.oauth.registration import register_agent

from ..conftest import OAuthClient, pkce_pair


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def signed_in(client, alice, catalogue):
    client.force_login(alice)
    return client


def connect(client, **fields):
    data = {"name": "Budget bot", "mode": "headless", "scope": ["documents:read"], **fields}
    return client.post("/agents/new/", data)


def test_connecting_an_agent_shows_its_secret_once(signed_in, alice):
    response = connect(signed_in)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    agent = Agent.objects.get(name="Budget bot")
    secret = response.context["secret"]
    assert secret in response.content.decode()
    assert agent.user == alice and agent.registered_via == "portal"
    assert secret not in agent.client_secret
    assert Grant.objects.get(agent=agent).scopes == ["documents:read"]
    assert secret not in signed_in.get(f"/agents/{agent.client_id}/").content.decode()


def test_the_connected_agent_can_get_a_token_with_its_secret(signed_in):
    response = connect(signed_in, scope=["documents:read", "documents:write"])
    agent = response.context["agent"]
    agent.plain_secret = response.context["secret"]

    token = OAuthClient(Client()).token({"grant_type": "client_credentials"}, agent)

    assert token.json()["scope"] == "documents:read documents:write"


def test_a_web_agent_needs_a_redirect_uri(signed_in):
    missing = connect(signed_in, mode="web")
    unsafe = connect(signed_in, mode="web", redirect_uris="http://evil.example/cb")

    assert missing.status_code == 200 and "needs at least one redirect URI" in missing.content.decode()
    assert "only allowed for loopback" in unsafe.content.decode()
    assert not Agent.objects.exists()


def test_someone_elses_agent_page_is_404(client, cc_agent, bob):
    client.force_login(bob)

    assert client.get(f"/agents/{cc_agent.client_id}/").status_code == 404
    assert client.post(f"/agents/{cc_agent.client_id}/revoke/").status_code == 404
    assert client.post(f"/agents/{cc_agent.client_id}/status/", {"action": "suspend"}).status_code == 404
    assert Agent.objects.get(pk=cc_agent.pk).status == "active"


def test_switching_a_scope_off_cuts_wider_tokens_at_once(client, signed_in, cc_agent, alice, oauth):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    signed_in.post(f"/agents/{cc_agent.client_id}/scopes/", {"scope": ["documents:read"]})

    assert Grant.objects.get(agent=cc_agent).scopes == ["documents:read"]
    assert Client().get("/api/v1/documents/", **bearer(token)).status_code == 401
    assert GrantChange.objects.filter(grant__agent=cc_agent).first().removed == ["documents:write"]


def test_switching_a_scope_on_asks_for_consent_first(signed_in, cc_agent):
    page = signed_in.post(
        f"/agents/{cc_agent.client_id}/scopes/", {"scope": ["documents:read", "documents:write", "payments:read"]}
    )

    assert page.status_code == 200
    assert 'value="payments:read"' in page.content.decode()
    assert Grant.objects.get(agent=cc_agent).scopes == ["documents:read", "documents:write"]
    signed_in.post(
        f"/agents/{cc_agent.client_id}/widen/",
        {"request": page.context["signed_request"], "scope": ["payments:read"], "allow": "1"},
    )
    assert "payments:read" in Grant.objects.get(agent=cc_agent).scopes


def test_the_kill_switch_revokes_everything(signed_in, cc_agent, oauth):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    response = signed_in.post(f"/agents/{cc_agent.client_id}/revoke/")

    assert response.status_code == 302
    assert Client().get("/api/v1/documents/", **bearer(token)).status_code == 401
    assert Agent.objects.get(pk=cc_agent.pk).status == "revoked"
    assert oauth.token({"grant_type": "client_credentials"}, cc_agent).status_code in (400, 401)


def test_revoking_a_third_party_agent_only_ends_my_grant(client, alice, web_agent):
    client.force_login(alice)
    tokens = OAuthClient(client).tokens_for(web_agent, "documents:read")

    client.post(f"/agents/{web_agent.client_id}/revoke/")

    assert Agent.objects.get(pk=web_agent.pk).status == "active"
    assert Client().get("/api/v1/documents/", **bearer(tokens["access_token"])).status_code == 401
    assert client.post(f"/agents/{web_agent.client_id}/status/", {"action": "suspend"}).status_code == 404


def test_suspend_and_resume(signed_in, cc_agent, oauth, django_capture_on_commit_callbacks):
    signed_in.post(f"/agents/{cc_agent.client_id}/status/", {"action": "suspend"})
    suspended = oauth.token({"grant_type": "client_credentials"}, cc_agent)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(f"/agents/{cc_agent.client_id}/status/", {"action": "resume"})
    resumed = oauth.token({"grant_type": "client_credentials"}, cc_agent)

    assert suspended.status_code in (400, 401)
    assert resumed.status_code == 200


def test_rotating_the_secret_shows_the_new_one_once_and_the_old_one_dies(signed_in, cc_agent, oauth):
    old = cc_agent.plain_secret

    response = signed_in.post(f"/agents/{cc_agent.client_id}/rotate-secret/")
    cc_agent.plain_secret = old
    with_old = oauth.token({"grant_type": "client_credentials"}, cc_agent)
    cc_agent.plain_secret = response.context["secret"]
    with_new = oauth.token({"grant_type": "client_credentials"}, cc_agent)

    assert with_old.status_code == 401 and with_new.status_code == 200


def test_deleting_an_agent(signed_in, cc_agent, oauth):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    signed_in.post(f"/agents/{cc_agent.client_id}/delete/")

    assert not Agent.objects.filter(pk=cc_agent.pk).exists()
    assert Client().get("/api/v1/documents/", **bearer(token)).status_code == 401


def test_revoking_one_token_from_the_agent_page(signed_in, cc_agent, oauth):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    page = signed_in.get(f"/agents/{cc_agent.client_id}/")
    listed = page.context["tokens"][0]

    signed_in.post(f"/agents/{cc_agent.client_id}/tokens/{listed.pk}/revoke/")

    assert Client().get("/api/v1/documents/", **bearer(token)).status_code == 401


def test_consent_history_and_receipt(signed_in, cc_agent, alice):
    signed_in.post(f"/agents/{cc_agent.client_id}/scopes/", {"scope": ["documents:read"]})

    page = signed_in.get("/history/")
    receipt = signed_in.get("/history/receipt.json")

    assert [change.summary for change in page.context["changes"]] == ["narrowed", "granted"]
    body = json.loads(receipt.content)
    assert receipt["Content-Disposition"].startswith("attachment")
    assert body["subject"]["username"] == "alice"
    assert body["current_consents"][0]["scopes"][0]["scope"] == "documents:read"
    assert [entry["change"] for entry in body["history"]] == ["granted", "narrowed"]


def test_sign_out_everywhere_ends_other_sessions(alice, catalogue):
    here, elsewhere = Client(), Client()
    here.login(username="alice", password="correct horse battery staple")
    elsewhere.login(username="alice", password="correct horse battery staple")

    here.post("/sign-out-everywhere/")

    assert here.get("/dashboard/").status_code == 200
    assert elsewhere.get("/dashboard/").status_code == 302


@pytest.mark.catalogue("CS-01")
@pytest.mark.parametrize(
    "path",
    [
        "/o/authorize/",
        "/agents/{id}/revoke/",
        "/agents/{id}/scopes/",
        "/agents/new/",
        "/device/",
        "/sign-out-everywhere/",
    ],
)
def test_forms_refuse_cross_site_posts_without_a_csrf_token(alice, cc_agent, path):
    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(alice)

    response = attacker.post(
        path.format(id=cc_agent.client_id), {"allow": "1", "scope": ["documents:read"]}, HTTP_ORIGIN="https://evil.test"
    )

    assert response.status_code == 403
    assert Agent.objects.get(pk=cc_agent.pk).status == "active"


@pytest.mark.catalogue("CS-01")
def test_a_forged_consent_post_mints_no_code(alice, web_agent):
    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(alice)

    response = attacker.post(
        "/o/authorize/",
        {
            "allow": "Authorize",
            "client_id": web_agent.client_id,
            "redirect_uri": "https://agent.example/cb",
            "scope": "documents:read",
            "response_type": "code",
            "state": "x",
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        },
    )

    assert response.status_code == 403
    assert not Grant.objects.exists()


@pytest.mark.catalogue("CS-02")
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/device/", "/dashboard/", "/history/", "/o/authorize/?client_id=x"]
)
def test_every_page_refuses_to_be_framed(signed_in, path):
    response = signed_in.get(path)

    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.catalogue("CS-02", "CS-04")
def test_consent_page_headers(signed_in, web_agent):
    _, challenge = pkce_pair()

    page = OAuthClient(signed_in).authorize(web_agent, "documents:read", challenge=challenge)

    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]


@pytest.mark.catalogue("AP-08")
def test_agent_supplied_text_is_escaped_and_bidi_controls_removed(signed_in, alice, catalogue):
    agent, _ = register_agent(
        name="Safe\u202eyneD <script>alert(1)</script>",
        description="<img src=x onerror=alert(1)>" + "x" * 20_000,
        owner=alice,
        grant_types=["client_credentials"],
        grant_scopes=["documents:read"],
    )
    Agent.objects.filter(pk=agent.pk).update(name="Evil\u202e\u200b <script>alert(1)</script>" + "y" * 200)

    html = signed_in.get(f"/agents/{agent.client_id}/").content.decode()
    dashboard = signed_in.get("/dashboard/").content.decode()

    for page in (html, dashboard):
        assert "<script>alert(1)</script>" not in page
        assert "\u202e" not in page and "\u200b" not in page
        assert "y" * 100 not in page
    assert "<img src=x" not in html
