"""/metrics: Prometheus text, for loopback callers and the metrics token only, counters that move."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from agentauth.oauth.registration import register_agent
from approvals import services
from approvals.models import ApprovalRequest
from examples.payments import PAY

from ..conftest import OAuthClient
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def scrape(client=None, **extra):
    answer = (client or Client()).get("/metrics", **extra)
    assert answer.status_code == 200, answer.content
    samples = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_move_with_tokens_refusals_api_calls_and_decisions(catalogue):
    person = UserFactory(username="mo")
    agent, secret = register_agent(
        name="Payer",
        owner=person,
        grant_types=["client_credentials"],
        grant_scopes=["payments:execute", "documents:read"],
    )
    agent.plain_secret = secret
    before = scrape()

    oauth = OAuthClient(Client())
    token = oauth.token({"grant_type": "client_credentials"}, agent).json()["access_token"]
    agent.plain_secret = "wrong"
    assert oauth.token({"grant_type": "client_credentials"}, agent).status_code == 401
    Client().get("/api/v1/documents/", headers={"authorization": f"Bearer {token}"})
    approval, _ = services.request_approval(
        user=person, agent=agent, action=PAY, params={"amount": "5.00", "currency": "EUR", "to": "Cafe", "memo": ""}
    )
    services.decide(approval, approve=False, by=person)
    pending, _ = services.request_approval(
        user=person, agent=agent, action=PAY, params={"amount": "6.00", "currency": "EUR", "to": "Cafe", "memo": ""}
    )
    after = scrape()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("agentauth_tokens_total", grant_type="client_credentials", outcome="issued") == 1
    assert moved("agentauth_tokens_total", grant_type="client_credentials", outcome="refused") == 1
    assert moved("agentauth_api_auth_seconds_count") == 1
    assert moved("agentauth_approvals_total", status="denied") == 1
    assert moved("agentauth_time_to_decision_seconds_count") == 1
    assert (
        value(after, "agentauth_approvals_open", status="pending")
        == ApprovalRequest.objects.filter(status="pending").count()
        == 1
    )
    assert pending.status == "pending"


def test_rate_limit_refusals_are_counted(settings, catalogue):
    limits = settings.AGENTAUTH_RATE_LIMITS
    settings.AGENTAUTH_RATE_LIMITS = {**limits, "default": {**limits["default"], "signin": "1/min"}}
    before = scrape()
    for _ in range(3):
        Client().post("/accounts/login/", {"username": "nobody", "password": "x"})
    assert (
        value(scrape(), "agentauth_rate_limited_total", bucket="signin")
        - value(before, "agentauth_rate_limited_total", bucket="signin")
        == 2
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"REMOTE_ADDR": "203.0.113.7"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},  # a proxy on this machine
        {"REMOTE_ADDR": "203.0.113.7", "HTTP_AUTHORIZATION": "Bearer not-the-token"},
    ],
    ids=["remote", "through a local proxy", "wrong token"],
)
def test_only_loopback_or_the_token_may_read_metrics(settings, extra):
    settings.AGENTAUTH_METRICS_TOKEN = "s3cret-metrics-token"
    assert Client().get("/metrics", **extra).status_code == 403


def test_the_metrics_token_opens_it_from_anywhere(settings):
    settings.AGENTAUTH_METRICS_TOKEN = "s3cret-metrics-token"
    answer = Client().get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert answer.status_code == 200 and b"agentauth_tokens_total" in answer.content
