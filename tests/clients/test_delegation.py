"""A delegation chain of three through agentauth_client (RFC 8693) against a live AgentAuth: the
person allows the hand-overs on the agents' pages, then cuts the middle link there."""

import httpx
import jwt
import pytest
from agentauth_client import Client, OAuthError

from agentauth.consent.models import Delegation
from agentauth.oauth.registration import register_agent

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agents(person):
    made = []
    for name in ("Planner", "Researcher", "Summariser"):
        agent, secret = register_agent(
            name=name,
            owner=person,
            grant_types=["client_credentials"],
            grant_scopes=["documents:read", "documents:write"],
        )
        agent.plain_secret = secret
        made.append(agent)
    return made


def allow(browser, server, agent, delegate, scopes):
    """The person's form on `agent`'s page: it may hand `scopes` to `delegate`."""
    answer = browser.post(
        f"{server}/agents/{agent.client_id}/delegations/",
        data={"delegate": delegate.client_id, "scope": scopes, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        timeout=10,
    )
    assert answer.status_code == 200 and "may now hand work to" in answer.text


def documents(server, token):
    """The API as a tool would call it with a handed-on token: no renewal, just the token."""
    return httpx.get(f"{server}/api/v1/documents/", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_chain_of_three_whose_middle_link_is_cut(server, browser, agents):
    planner, researcher, summariser = agents
    allow(browser, server, planner, researcher, ["documents:read", "documents:write"])
    allow(browser, server, researcher, summariser, ["documents:read"])

    with (
        Client(server, planner.client_id, client_secret=planner.plain_secret) as a,
        Client(server, researcher.client_id, client_secret=researcher.plain_secret) as b,
    ):
        token_a = a.token()
        token_b = a.exchange_token(token_a.access_token, audience=researcher.client_id)
        token_c = b.exchange_token(token_b.access_token, audience=summariser.client_id, scope="documents:read")

        chain = jwt.decode(token_c.access_token, options={"verify_signature": False})
        assert chain["client_id"] == summariser.client_id
        assert chain["act"] == {"sub": researcher.client_id, "act": {"sub": planner.client_id}}
        assert token_c.scopes == {"documents:read"}
        assert [documents(server, t.access_token) for t in (token_a, token_b, token_c)] == [200, 200, 200]

        middle = Delegation.objects.get(agent=planner, delegate=researcher)
        cut = browser.post(
            f"{server}/agents/{researcher.client_id}/delegations/{middle.pk}/cut/",
            data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            timeout=10,
        )
        assert cut.status_code == 200 and "Cut:" in cut.text

        assert [documents(server, t.access_token) for t in (token_a, token_b, token_c)] == [200, 401, 401]
        with pytest.raises(OAuthError) as refused:
            a.exchange_token(token_a.access_token, audience=researcher.client_id)
        assert refused.value.error == "invalid_target"
