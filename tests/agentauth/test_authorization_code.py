import pytest

from agentauth.consent.models import Grant
from agentauth.identity.models import AuthorizationCode

from ..conftest import pkce_pair, query_of


def test_consent_issues_a_token_with_only_the_checked_scopes(alice_oauth, web_agent, alice):
    tokens = alice_oauth.tokens_for(web_agent, "documents:read documents:write", checked=["documents:read"])

    assert tokens["scope"] == "documents:read"
    assert "refresh_token" in tokens
    assert Grant.objects.get(user=alice, agent=web_agent).scopes == ["documents:read"]


@pytest.mark.catalogue("AC-06")
def test_state_and_iss_come_back_unchanged(alice_oauth, web_agent, settings):
    state = "a-._~+/=" * 32
    verifier, challenge = pkce_pair()
    page = alice_oauth.authorize(web_agent, "documents:read", state=state, challenge=challenge)

    response = alice_oauth.consent(page, ["documents:read"])

    assert response.status_code == 302
    query = query_of(response)
    assert query["state"] == state
    assert query["iss"] == settings.AGENTAUTH_ISSUER
    assert response["Location"].startswith("https://agent.example/cb?")


@pytest.mark.catalogue("AC-08")
def test_deny_redirects_with_access_denied_and_no_code(alice_oauth, web_agent, alice):
    verifier, challenge = pkce_pair()
    page = alice_oauth.authorize(web_agent, "documents:read", challenge=challenge)

    response = alice_oauth.consent(page, ["documents:read"], allow=False)

    query = query_of(response)
    assert query["error"] == "access_denied" and query["state"] == "xyz" and "code" not in query
    assert not Grant.objects.filter(user=alice).exists()
    assert not AuthorizationCode.objects.exists()


@pytest.mark.catalogue("PK-01", "PK-03")  # PKCE is mandatory, so the downgrade fails at authorize
@pytest.mark.parametrize(
    "extra",
    [
        {},  # no challenge at all
        {"code_challenge": "x" * 43, "code_challenge_method": "plain"},
        {"code_challenge": "x" * 43, "code_challenge_method": ""},
        {"code_challenge": "x" * 43, "code_challenge_method": "S512"},
    ],
)
def test_pkce_s256_is_required_before_the_consent_screen(alice_oauth, web_agent, extra):
    response = alice_oauth.client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": web_agent.client_id,
            "redirect_uri": "https://agent.example/cb",
            "scope": "documents:read",
            "state": "s",
            **extra,
        },
    )

    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert query_of(response)["error"] == "invalid_request"
        assert "code" not in query_of(response)
    assert not AuthorizationCode.objects.exists()


@pytest.mark.catalogue("AC-01")
def test_a_code_works_once(alice_oauth, web_agent):
    code, verifier = alice_oauth.code_flow(web_agent, "documents:read")
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://agent.example/cb",
        "code_verifier": verifier,
    }

    first = alice_oauth.token(data, web_agent)
    second = alice_oauth.token(data, web_agent)

    assert first.status_code == 200
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"


@pytest.mark.catalogue("PK-02")
def test_a_wrong_verifier_burns_the_code(alice_oauth, web_agent):
    code, verifier = alice_oauth.code_flow(web_agent, "documents:read")
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://agent.example/cb"}

    wrong = alice_oauth.token(data | {"code_verifier": "w" * 43}, web_agent)
    right = alice_oauth.token(data | {"code_verifier": verifier}, web_agent)

    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert right.status_code == 400 and right.json()["error"] == "invalid_grant"


@pytest.mark.catalogue("PK-02")
def test_a_missing_verifier_is_refused(alice_oauth, web_agent):
    code, _ = alice_oauth.code_flow(web_agent, "documents:read")

    response = alice_oauth.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://agent.example/cb"}, web_agent
    )

    assert response.status_code == 400


@pytest.mark.catalogue("AC-04")
def test_a_code_is_bound_to_its_agent(alice_oauth, web_agent, public_agent, catalogue):
    from agentauth.oauth.registration import register_agent

    evil, secret = register_agent(
        name="Evil", grant_types=["authorization_code"], redirect_uris=["https://agent.example/cb"]
    )
    evil.plain_secret = secret
    code, verifier = alice_oauth.code_flow(web_agent, "documents:read")
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://agent.example/cb",
        "code_verifier": verifier,
    }

    stolen = alice_oauth.token(data, evil)
    as_public = alice_oauth.token(data | {"client_id": public_agent.client_id})
    legitimate = alice_oauth.token(data, web_agent)

    assert stolen.json()["error"] == "invalid_grant"
    assert as_public.json()["error"] == "invalid_grant"
    assert legitimate.status_code == 200  # a failed theft does not burn another agent's code


@pytest.mark.catalogue("AC-05")
def test_the_token_request_must_repeat_the_same_redirect_uri(alice_oauth, web_agent):
    code, verifier = alice_oauth.code_flow(web_agent, "documents:read")

    response = alice_oauth.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1/cb",
            "code_verifier": verifier,
        },
        web_agent,
    )

    assert response.status_code == 400


@pytest.mark.catalogue("AC-03")
def test_an_expired_code_is_refused(alice_oauth, web_agent):
    code, verifier = alice_oauth.code_flow(web_agent, "documents:read")
    AuthorizationCode.objects.update(expires="2000-01-01T00:00:00Z")

    response = alice_oauth.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://agent.example/cb",
            "code_verifier": verifier,
        },
        web_agent,
    )

    assert response.json()["error"] == "invalid_grant"


@pytest.mark.catalogue("SC-01")
def test_the_consent_form_cannot_add_scopes_that_were_not_requested(alice_oauth, web_agent):
    verifier, challenge = pkce_pair()
    page = alice_oauth.authorize(web_agent, "documents:read", challenge=challenge)

    response = alice_oauth.consent(page, ["documents:read", "payments:execute", "documents:write"])
    token = alice_oauth.token(
        {
            "grant_type": "authorization_code",
            "code": query_of(response)["code"],
            "redirect_uri": "https://agent.example/cb",
            "code_verifier": verifier,
        },
        web_agent,
    )

    assert token.json()["scope"] == "documents:read"


@pytest.mark.catalogue("SC-01")
def test_a_tampered_signed_request_is_refused(alice_oauth, web_agent):
    verifier, challenge = pkce_pair()
    page = alice_oauth.authorize(web_agent, "documents:read", challenge=challenge)

    response = alice_oauth.client.post(
        "/o/authorize/", {"request": page.context["signed_request"] + "x", "scope": ["documents:read"], "allow": "1"}
    )

    assert response.status_code == 400
    assert not AuthorizationCode.objects.exists()


def test_a_consent_screen_belongs_to_the_person_who_saw_it(client, web_agent, alice, bob):
    client.force_login(alice)
    verifier, challenge = pkce_pair()
    from ..conftest import OAuthClient

    page = OAuthClient(client).authorize(web_agent, "documents:read", challenge=challenge)
    client.force_login(bob)

    response = OAuthClient(client).consent(page, ["documents:read"])

    assert response.status_code == 400


@pytest.mark.catalogue("SC-01")
def test_no_scope_requested_is_invalid_scope(alice_oauth, web_agent):
    _, challenge = pkce_pair()

    response = alice_oauth.authorize(web_agent, "", challenge=challenge)

    assert response.status_code == 302
    assert query_of(response)["error"] == "invalid_scope"


def test_prompt_none_never_skips_consent(alice_oauth, web_agent):
    _, challenge = pkce_pair()

    response = alice_oauth.authorize(web_agent, "documents:read", challenge=challenge, prompt="none")

    assert query_of(response)["error"] == "consent_required"


def test_high_risk_scopes_start_switched_off(alice_oauth, web_agent):
    _, challenge = pkce_pair()

    page = alice_oauth.authorize(web_agent, "documents:read payments:execute", challenge=challenge)

    html = page.content.decode()
    assert 'value="payments:execute"' in html
    rows = {row["scope"].name: row["checked"] for _, rows in page.context["groups"] for row in rows}
    assert rows == {"documents:read": True, "payments:execute": False}


def test_signed_out_person_is_sent_to_sign_in(client, web_agent):
    _, challenge = pkce_pair()
    from ..conftest import OAuthClient

    response = OAuthClient(client).authorize(web_agent, "documents:read", challenge=challenge)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.catalogue("FZ-01")
@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "scope", "state", "code_challenge"])
def test_repeated_authorization_parameters_are_refused_without_redirect(alice_oauth, web_agent, name):
    _, challenge = pkce_pair()
    query = (
        f"response_type=code&client_id={web_agent.client_id}&redirect_uri=https%3A%2F%2Fagent.example%2Fcb"
        f"&scope=documents%3Aread&state=s&code_challenge={challenge}&code_challenge_method=S256&{name}=again"
    )

    response = alice_oauth.client.get(f"/o/authorize/?{query}")

    assert response.status_code == 400 and "Location" not in response
