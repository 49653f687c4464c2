"""Shared by the fault tests: a person and their agent that may pay."""

import pytest

from agentauth.oauth.registration import register_agent

from ..factories import UserFactory


@pytest.fixture
def person_and_agent(catalogue):
    person = UserFactory(username="pat")
    agent, secret = register_agent(
        name="Drill agent",
        owner=person,
        grant_types=["client_credentials"],
        grant_scopes=["payments:execute", "payments:read", "documents:read"],
    )
    agent.plain_secret = secret
    return person, agent
