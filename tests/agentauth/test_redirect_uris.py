import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from agentauth.identity.models import AuthorizationCode
from agentauth.identity.redirects import validate_redirect_uri
from agentauth.oauth.registration import register_agent

from ..conftest import OAuthClient, pkce_pair, query_of

ATTACKS = [
    "https://evil.test/cb",
    "https://agent.example/cb?x=1",
    "https://agent.example/cb/",
    "https://agent.example/cb/../cb",
    "https://agent.example/cb;x",
    "https://agent.example/cb#frag",
    "https://user@agent.example/cb",
    "https://agent.example@evil.test/cb",
    "https://agent.example.evil.test/cb",
    "https://AGENT.example/cb",
    "HTTPS://agent.example/cb",
    "http://agent.example/cb",
    "https://agent.example:444/cb",
    "https://agent.example/CB",
    "https://agent.example/cb%2F..",
    "//evil.test/cb",
    "javascript:alert(1)",
    "https://agent.example/cb\r\nLocation: https://evil.test",
    "http://[" + ":" * 2000,
    "https://agent.example/" + "a" * 65000,
]


@pytest.mark.catalogue("RU-01", "RU-08")
@pytest.mark.parametrize("redirect_uri", ATTACKS)
def test_only_the_exact_registered_redirect_uri_is_used(alice_oauth, web_agent, redirect_uri):
    _, challenge = pkce_pair()

    response = alice_oauth.authorize(web_agent, "documents:read", redirect_uri=redirect_uri, challenge=challenge)

    assert response.status_code == 400
    assert "Location" not in response
    assert not AuthorizationCode.objects.exists()


@pytest.mark.catalogue("RU-02")
def test_redirect_uri_is_required_when_several_are_registered(alice_oauth, web_agent):
    _, challenge = pkce_pair()

    response = alice_oauth.client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": web_agent.client_id,
            "scope": "documents:read",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )

    assert response.status_code == 400 and "Location" not in response


@pytest.mark.catalogue("RU-03")
@pytest.mark.parametrize("client_id", ["nope", ""])
def test_unknown_agent_never_redirects(alice_oauth, client_id):
    response = alice_oauth.client.get(
        "/o/authorize/",
        {"response_type": "code", "client_id": client_id, "redirect_uri": "https://evil.test/cb", "scope": "x:read"},
    )

    assert response.status_code == 400 and "Location" not in response


@pytest.mark.catalogue("RU-03", "AC-07")
@pytest.mark.parametrize("response_type", ["bogus", "token", "code token"])
def test_bad_response_type_never_reaches_an_unregistered_uri(alice_oauth, web_agent, response_type):
    _, challenge = pkce_pair()

    response = alice_oauth.authorize(
        web_agent,
        "documents:read",
        challenge=challenge,
        response_type=response_type,
        redirect_uri="https://evil.test/cb",
    )

    assert response.status_code == 400 and "Location" not in response


@pytest.mark.catalogue("RU-03")
def test_bad_scope_redirects_to_the_registered_uri_only(alice_oauth, web_agent):
    _, challenge = pkce_pair()

    response = alice_oauth.authorize(web_agent, "bogus", challenge=challenge)

    assert response["Location"].startswith("https://agent.example/cb?")
    assert query_of(response)["error"] == "invalid_scope"


@pytest.mark.catalogue("RU-04")
def test_prompt_none_without_a_session_does_not_redirect_to_unregistered_uris(client, web_agent):
    response = OAuthClient(client).authorize(
        web_agent, "documents:read", redirect_uri="https://evil.test/cb", challenge="c" * 43, prompt="none"
    )

    assert response.status_code == 400 and "Location" not in response


@pytest.mark.catalogue("RU-05")
@pytest.mark.parametrize(
    ("redirect_uri", "accepted"),
    [
        ("http://127.0.0.1:53817/cb", True),
        ("http://127.0.0.1:53817/cb?x=1", False),
        ("http://127.0.0.1:53817/cb2", False),
        ("http://localhost:53817/cb", False),
        ("http://localhost.evil.test/cb", False),
        ("http://127.0.0.1.evil.test/cb", False),
        ("http://[::1]:53817/cb", False),
    ],
)
def test_loopback_redirects_match_exactly_except_the_port(alice_oauth, web_agent, redirect_uri, accepted):
    _, challenge = pkce_pair()

    response = alice_oauth.authorize(web_agent, "documents:read", redirect_uri=redirect_uri, challenge=challenge)

    assert (response.status_code == 200) is accepted


@pytest.mark.catalogue("RU-06")
@pytest.mark.parametrize(
    "uri",
    [
        "http://agent.example/cb",
        "https://*.agent.example/cb",
        "https://agent.example/cb#",
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,x",
        "urn:ietf:wg:oauth:2.0:oob",
        "https://user:pw@agent.example/cb",
        "HTTPS://agent.example/cb",
        "https://agent.example/c b",
    ],
)
def test_registration_refuses_unsafe_redirect_uris(catalogue, uri):
    with pytest.raises(ValidationError):
        register_agent(name="x", grant_types=["authorization_code"], redirect_uris=[uri])


@given(st.text(max_size=300))
def test_redirect_uri_validation_never_crashes(value):
    try:
        validate_redirect_uri(value)
    except ValidationError:
        pass


@given(st.from_regex(r"https://[a-z]{1,20}\.example/[a-z0-9/]{0,30}", fullmatch=True))
def test_plain_https_uris_are_accepted(value):
    validate_redirect_uri(value)


@pytest.mark.catalogue("RU-07")
def test_consent_redirect_is_a_302(alice_oauth, web_agent):
    _, challenge = pkce_pair()
    page = alice_oauth.authorize(web_agent, "documents:read", challenge=challenge)

    assert alice_oauth.consent(page, ["documents:read"]).status_code == 302
