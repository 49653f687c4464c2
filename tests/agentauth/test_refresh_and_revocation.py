import base64

import pytest

from agentauth.consent import grants
from agentauth.consent.models import Grant
from agentauth.identity import lifecycle
from agentauth.identity.models import AccessToken, RefreshToken


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def refresh(oauth, agent, refresh_token, **more):
    return oauth.token({"grant_type": "refresh_token", "refresh_token": refresh_token, **more}, agent)


def api_status(client, access_token):
    return client.get("/api/v1/documents/", **bearer(access_token)).status_code


@pytest.mark.catalogue("RT-01")
def test_refresh_rotates_and_the_old_token_dies(alice_oauth, web_agent):
    first = alice_oauth.tokens_for(web_agent, "documents:read")

    second = refresh(alice_oauth, web_agent, first["refresh_token"])
    replay = refresh(alice_oauth, web_agent, first["refresh_token"])

    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


@pytest.mark.catalogue("RT-02")
def test_a_replayed_refresh_token_revokes_the_whole_family(alice_oauth, web_agent, client):
    first = alice_oauth.tokens_for(web_agent, "documents:read")
    second = refresh(alice_oauth, web_agent, first["refresh_token"]).json()

    refresh(alice_oauth, web_agent, first["refresh_token"])  # the attacker replays RT0
    legitimate = refresh(alice_oauth, web_agent, second["refresh_token"])

    assert legitimate.json()["error"] == "invalid_grant"
    assert api_status(client, second["access_token"]) == 401


@pytest.mark.catalogue("SC-02")
def test_refresh_cannot_widen_scope(alice_oauth, web_agent):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read documents:write", checked=["documents:read"])

    wider = refresh(alice_oauth, web_agent, tokens["refresh_token"], scope="documents:read documents:write")
    narrower = refresh(alice_oauth, web_agent, tokens["refresh_token"], scope="documents:read")

    assert wider.json()["error"] == "invalid_scope"
    assert narrower.json()["scope"] == "documents:read"


@pytest.mark.catalogue("RT-04")
def test_a_refresh_token_is_bound_to_its_agent(alice_oauth, web_agent, catalogue):
    from agentauth.oauth.registration import register_agent

    evil, secret = register_agent(
        name="Evil", grant_types=["authorization_code", "refresh_token"], redirect_uris=["https://evil.test/cb"]
    )
    evil.plain_secret = secret
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")

    stolen = refresh(alice_oauth, evil, tokens["refresh_token"])
    unauthenticated = alice_oauth.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})

    assert stolen.json()["error"] == "invalid_grant"
    assert unauthenticated.status_code == 401


@pytest.mark.catalogue("RT-05")
def test_a_refresh_token_past_its_lifetime_is_refused(alice_oauth, web_agent):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")
    AccessToken.objects.update(expires="2000-01-01T00:00:00Z")

    assert refresh(alice_oauth, web_agent, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_narrowing_a_grant_cuts_wider_tokens_and_refresh_follows(alice_oauth, web_agent, alice, client):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read documents:write")

    grants.set_scopes(alice, web_agent, ["documents:read"])
    refreshed = refresh(alice_oauth, web_agent, tokens["refresh_token"]).json()

    assert api_status(client, tokens["access_token"]) == 401
    assert refreshed["scope"] == "documents:read"
    assert api_status(client, refreshed["access_token"]) == 200


@pytest.mark.catalogue("RV-02")
def test_revoking_the_grant_cuts_every_token_at_once(alice_oauth, web_agent, alice, client):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")
    assert api_status(client, tokens["access_token"]) == 200

    grants.revoke_grant(alice, web_agent)

    assert api_status(client, tokens["access_token"]) == 401
    assert refresh(alice_oauth, web_agent, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert not Grant.objects.active().exists()


@pytest.mark.catalogue("RV-02")
def test_suspending_an_agent_cuts_it_off_and_resuming_does_not_revive_old_tokens(
    oauth, cc_agent, client, django_capture_on_commit_callbacks
):
    old = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    lifecycle.suspend(cc_agent)
    refused = oauth.token({"grant_type": "client_credentials"}, cc_agent)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.resume(cc_agent)
    new = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    assert refused.status_code in (400, 401)
    assert api_status(client, old) == 401
    assert api_status(client, new) == 200


def test_a_suspended_agents_live_token_fails_even_if_its_row_survived(oauth, cc_agent, client):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    from agentauth.identity import revocation

    revocation.add(revocation.agent_key(cc_agent.client_id))

    assert api_status(client, token) == 401


def basic(agent):
    return {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{agent.client_id}:{agent.plain_secret}".encode()).decode()
    }


def revoke(client, agent, token, **more):
    from urllib.parse import urlencode

    headers = basic(agent) if agent is not None else {}
    return client.post(
        "/o/revoke_token/",
        urlencode({"token": token, **more}),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


@pytest.mark.catalogue("RV-01")
def test_rfc7009_revocation_of_an_access_token(alice_oauth, web_agent, client):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")

    response = revoke(client, web_agent, tokens["access_token"], token_type_hint="access_token")

    assert response.status_code == 200
    assert api_status(client, tokens["access_token"]) == 401


@pytest.mark.catalogue("RV-01")
def test_revoking_a_refresh_token_with_a_wrong_hint_still_works(alice_oauth, web_agent, client):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")

    response = revoke(client, web_agent, tokens["refresh_token"], token_type_hint="access_token")

    assert response.status_code == 200
    assert refresh(alice_oauth, web_agent, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert api_status(client, tokens["access_token"]) == 401


@pytest.mark.catalogue("RV-01")
def test_an_agent_cannot_revoke_another_agents_token(alice_oauth, web_agent, cc_agent, client):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")

    assert revoke(client, cc_agent, tokens["access_token"]).status_code == 200
    assert api_status(client, tokens["access_token"]) == 200
    assert revoke(client, web_agent, "random-value").status_code == 200
    assert revoke(client, None, tokens["access_token"]).status_code == 401


@pytest.mark.catalogue("CA-04")
def test_client_credentials_issue_no_refresh_token(oauth, cc_agent):
    body = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()

    assert "refresh_token" not in body
    assert not RefreshToken.objects.exists()


@pytest.mark.catalogue("RT-06")
@pytest.mark.parametrize("change", ["password", "disable"])
def test_a_new_password_or_a_disabled_account_ends_every_agent_session(alice_oauth, web_agent, alice, client, change):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")

    if change == "password":
        alice.set_password("a brand new passphrase 42")
    else:
        alice.is_active = False
    alice.save()

    assert api_status(client, tokens["access_token"]) == 401
    assert refresh(alice_oauth, web_agent, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_signing_in_does_not_revoke_anything(alice_oauth, web_agent, alice, client):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")

    client.login(username="alice", password="correct horse battery staple")

    assert api_status(client, tokens["access_token"]) == 200
