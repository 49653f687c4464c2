"""A live AgentAuth (Daphne, in the embedded shape `make run` serves: tasks and pushes in process)
for the Python client to talk to, a person signed in to it, and agents registered for each flow."""

from contextlib import contextmanager

import pytest

from agentauth.identity.models import CIBA, DEVICE_CODE
from agentauth.oauth.registration import register_agent

from ..factories import PAYER_SCOPES, UserFactory, owned_agent
from ..servers import asgi_process, free_port
from .person import PERSON, signed_in

PAYMENT = {"amount": "120.00", "currency": "EUR", "to": "ACME Ltd", "memo": "Invoice 42"}


@contextmanager
def live_agentauth(**env):
    """An AgentAuth process whose issuer is its own address. Without REDIS_URL it runs approved
    actions and wakes long-polls itself, so a decision posted to it completes the whole loop."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    settings = {"AGENTAUTH_ISSUER": issuer, "REDIS_URL": "", "AGENTAUTH_DEVICE_INTERVAL": "1"}
    with asgi_process(port=port, **settings | env) as (url, _):
        yield url


@pytest.fixture
def server(catalogue):
    with live_agentauth() as issuer:
        yield issuer


@pytest.fixture
def person(catalogue):
    return UserFactory(username=PERSON)


@pytest.fixture
def browser(server, person):
    return signed_in(server)


@pytest.fixture
def payer(person):
    """Carol's own headless agent: reads documents, and pays (every payment asks her first)."""
    return owned_agent(person, "SDK payer", PAYER_SCOPES)


@pytest.fixture
def device_agent(catalogue):
    agent, _ = register_agent(
        name="SDK command line",
        grant_types=[DEVICE_CODE, "refresh_token"],
        confidential=False,
        allowed_scopes=["documents:read", "payments:execute", "payments:read"],
    )
    return agent


@pytest.fixture
def ciba_agent(catalogue):
    agent, secret = register_agent(name="SDK shopper", grant_types=[CIBA], allowed_scopes=["payments:execute"])
    agent.plain_secret = secret
    return agent
