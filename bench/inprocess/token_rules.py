"""Scenario 1's breakdown: what each rule of a client-credentials token costs, in process.

Registers one more agent for a seeded person, then times, in CPU milliseconds per call (median
of five rounds of 100, the parts taking turns), the whole token request through Django's handler
and each piece of it the security rules need, with the very functions the endpoint runs: the agent
with its owner and registered scopes (as the process remembers it, and reloaded from the
database), the person's standing grant, the token's row (revocation of one token, the agent page)
with its audit record in one statement guarded by the grant, the ES256 signature and the rate
limiter with the agents' version; and Django's request handling alone, the same client and
middleware around a view that answers a constant (GET /healthz). What is left is oauthlib,
django-oauth-toolkit and the endpoint's own glue.
Prints JSON. Run as `python -m bench.inprocess.token_rules` with AgentAuth's environment.
"""

import base64
import json
import statistics
import time
from datetime import timedelta

import django

ROUNDS, CALLS, WARMUP = 5, 100, 30


def _cpu_ms(parts):
    """CPU ms per call of each part: the median of ROUNDS rounds, the parts taking turns in each
    round so that the machine's drift falls on all of them alike."""
    for call in parts.values():
        for _ in range(WARMUP):
            call()
    rounds = {name: [] for name in parts}
    for _ in range(ROUNDS):
        for name, call in parts.items():
            started = time.process_time()
            for _ in range(CALLS):
                call()
            rounds[name].append((time.process_time() - started) * 1000 / CALLS)
    return {name: statistics.median(values) for name, values in rounds.items()}


def main():
    django.setup()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from agentauth.consent import grants
    from agentauth.identity import known_agents, tokens
    from agentauth.lib import ratelimit
    from agentauth.oauth.registration import register_agent

    person = get_user_model().objects.filter(is_active=True).order_by("pk").first()
    agent, secret = register_agent(
        name="token rules", owner=person, grant_types=["client_credentials"], grant_scopes=["documents:read"]
    )
    basic = "Basic " + base64.b64encode(f"{agent.client_id}:{secret}".encode()).decode()
    client = Client()
    host = next((name for name in settings.ALLOWED_HOSTS if name not in ("*", "")), "localhost").lstrip(".")
    claims = tokens._claims(
        subject=str(person.pk), client_id=agent.client_id, audience="bench", scopes=["documents:read"], lifetime=600
    )
    raw = tokens._sign(claims)

    def whole():
        answer = client.post(
            "/o/token/",
            "grant_type=client_credentials",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic,
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_HOST=host,
        )
        assert answer.status_code == 200, answer.content

    def handling():
        answer = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST=host)
        assert answer.status_code == 200, answer.content

    version = ratelimit.retry_after_reading(known_agents.VERSION_KEY, [])[1]

    def agent_remembered():
        with known_agents.at_version(version):
            known_agents.get(agent.client_id)

    def agent_reload():
        known_agents.load(agent.client_id)

    def grant():
        grants.standing_grant(person, agent)

    consent = grants.standing_grant(person, agent)

    def write():
        tokens.store(
            f"{raw}{time.time_ns()}",
            user=person,
            agent=agent,
            scope="documents:read",
            expires=timezone.now() + timedelta(minutes=10),
            jti=str(time.time_ns()),
            grant_type="client_credentials",
            consent=consent,
        )

    def limiter():
        buckets = [("token", f"token:agent:{agent.client_id}"), ("token_ip", "token:ip:bench")]
        ratelimit.retry_after_reading(known_agents.VERSION_KEY, buckets)

    parts = {
        "whole": whole,
        "handling": handling,
        "agent": agent_remembered,
        "agent_reload": agent_reload,
        "grant": grant,
        "write": write,
        "sign": lambda: tokens._sign(claims),
        "rate_limit": limiter,
    }
    print(json.dumps(_cpu_ms(parts)))


if __name__ == "__main__":
    main()
