"""Shared fixtures. Tests that need PostgreSQL, Redis or Chromium skip without them, and fail
instead when AGENTAUTH_REQUIRE_SERVICES=1 (as in CI), so a green CI run proves they ran."""

import base64
import hashlib
import os
import secrets
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache

from agentauth.audit import trail
from agentauth.identity import keys, known_agents, revocation, scopes, tokens
from agentauth.identity.seed import seed_scopes
from agentauth.lib import ratelimit
from agentauth.monitoring import activity
from agentauth.oauth.registration import register_agent

from .factories import PAYER_SCOPES, UserFactory, owned_agent

REQUIRE_SERVICES = os.getenv("AGENTAUTH_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def missing_service(reason):
    if REQUIRE_SERVICES:
        pytest.fail(f"AGENTAUTH_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def pytest_report_header(config):
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return [
        f"agentauth: database={database} redis={'yes' if settings.REDIS_URL else 'no'} "
        f"chromium={'yes' if shutil.which(CHROMIUM) else 'no'} require_services={REQUIRE_SERVICES}"
    ]


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Caches outlive the per-test database rollback: start every test empty."""
    keys.clear_cache()
    tokens.forget_verified()
    revocation.mirror.clear()
    known_agents.forget()
    scopes.catalogue.clear()
    cache.clear()  # with REDIS_URL this flushes the test Redis database: buckets and counters too
    ratelimit.reset()
    activity.reset()
    yield
    keys.clear_cache()
    scopes.catalogue.clear()


@pytest.fixture
def requires_postgres():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        missing_service("PostgreSQL is not configured (set DATABASE_URL)")


@pytest.fixture
def redis_url():
    if not settings.REDIS_URL:
        missing_service("Redis is not configured (set REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        missing_service(f"Redis at REDIS_URL is not reachable: {error}")
    return settings.REDIS_URL


@pytest.fixture
def chromium():
    if not shutil.which(CHROMIUM):
        missing_service(f"Chromium is not installed at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture
def catalogue(db):
    seed_scopes()
    scopes.catalogue.clear()


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def cc_agent(alice, catalogue):
    """An owned, headless agent with a standing grant of documents:read and documents:write."""
    return owned_agent(alice, "Alice's assistant")


@pytest.fixture
def web_agent(catalogue):
    """A self-registered confidential agent using authorization code + PKCE."""
    agent, secret = register_agent(
        name="Web agent",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=["https://agent.example/cb", "http://127.0.0.1/cb"],
    )
    agent.plain_secret = secret
    return agent


@pytest.fixture
def public_agent(catalogue):
    agent, _ = register_agent(
        name="Public agent",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=["https://agent.example/cb"],
        confidential=False,
    )
    return agent


@pytest.fixture
def device_agent(catalogue):
    agent, _ = register_agent(
        name="Headless agent",
        grant_types=["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
        confidential=False,
    )
    return agent


def basic_auth(agent):
    raw = f"{agent.client_id}:{agent.plain_secret}".encode()
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw).decode()}


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def query_of(response):
    return {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}


class OAuthClient:
    """Drives the token endpoint and the consent screen through Django's test client."""

    def __init__(self, client):
        self.client = client

    def token(self, data, agent=None, **extra):
        headers = basic_auth(agent) if agent is not None and getattr(agent, "plain_secret", None) else {}
        from urllib.parse import urlencode

        return self.client.post(
            "/o/token/", urlencode(data), content_type="application/x-www-form-urlencoded", **headers, **extra
        )

    def authorize(self, agent, scope, redirect_uri="https://agent.example/cb", state="xyz", challenge=None, **more):
        params = {
            "response_type": "code",
            "client_id": agent.client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge_method": "S256",
            **more,
        }
        if challenge is not None:
            params["code_challenge"] = challenge
        return self.client.get("/o/authorize/", params)

    def consent(self, page, checked, allow=True):
        data = {"request": page.context["signed_request"], "scope": checked}
        data["allow" if allow else "deny"] = "1"
        return self.client.post("/o/authorize/", data)

    def code_flow(self, agent, scope, checked=None, redirect_uri="https://agent.example/cb"):
        """Consent to `checked` (default: all of `scope`) and return (code, verifier)."""
        verifier, challenge = pkce_pair()
        page = self.authorize(agent, scope, redirect_uri=redirect_uri, challenge=challenge)
        assert page.status_code == 200, page.content
        response = self.consent(page, checked if checked is not None else scope.split())
        assert response.status_code == 302, response.content
        return query_of(response)["code"], verifier

    def tokens_for(self, agent, scope, checked=None, redirect_uri="https://agent.example/cb"):
        code, verifier = self.code_flow(agent, scope, checked, redirect_uri)
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        if not getattr(agent, "plain_secret", None):
            data["client_id"] = agent.client_id
        response = self.token(data, agent)
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture
def oauth(client):
    return OAuthClient(client)


@pytest.fixture
def alice_oauth(client, alice):
    client.force_login(alice)
    return OAuthClient(client)


@pytest.fixture
def payer(alice, catalogue):
    """Alice's own headless agent allowed to read and execute payments."""
    return owned_agent(alice, "Payment bot", PAYER_SCOPES)


@pytest.fixture
def pay_token(client, payer):
    response = OAuthClient(client).token({"grant_type": "client_credentials"}, payer)
    return response.json()["access_token"]


def with_rate(settings, kind, rate):
    """Override one default rate limit (e.g. "signin") for this test."""
    limits = settings.AGENTAUTH_RATE_LIMITS
    settings.AGENTAUTH_RATE_LIMITS = {**limits, "default": {**limits["default"], kind: rate}}


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Tasks run inline unless a test starts a real worker (tests/approvals/test_worker.py)."""
    from agentauth.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(autouse=True)
def _sealed_before_flush(_django_db_helper):
    """Set up after the test database, so this runs before it is flushed: the audit sealer's
    thread sealing the test's last records while TRUNCATE ran was a deadlock now and then."""
    yield
    trail.sealer.wait_idle(10)


@pytest.fixture(scope="session", autouse=True)
def _close_database_pools(django_db_setup, django_db_blocker):
    """Pooled PostgreSQL connections outlive their threads; close them so the test database can go."""
    yield
    from django.db import connections

    trail.sealer.wait_idle(10)  # its thread may still be sealing the last test's records
    for connection in connections.all():
        if hasattr(connection, "close_pool"):
            connection.close_pool()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Every test gets its own channel layer: channels_redis binds its locks to the event loop
    that first used them, and pytest-asyncio gives each async test a new loop (a shared layer
    failed now and then with "bound to a different event loop" on disconnect)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture
def push_service(settings):
    """A push service on this machine that verifies and decrypts what it receives (tests/push_service.py)."""
    import http.server
    import threading

    from .push_service import Browser, PushService

    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.DEBUG = True  # a push service on this machine is acceptable only in development
    PushService.received, PushService.answer, PushService.browser = [], 201, Browser()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PushService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/push/abc"
    server.shutdown()
    server.server_close()
