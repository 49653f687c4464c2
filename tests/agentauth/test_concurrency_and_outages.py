"""Races on real PostgreSQL row locks and outages of real Redis."""

import threading
import time
from urllib.parse import urlencode

import pytest
import requests
from django.core.cache import cache
from django.db import connections, transaction

from agentauth.consent import grants
from agentauth.identity import revocation
from agentauth.identity.models import Revocation

from ..conftest import basic_auth


def post_once_received(url, body, headers):
    """The test server's listen backlog is small: a connection reset before the request was read
    is retried (nothing reached the server), anything else is returned as it came."""
    for _ in range(5):
        try:
            return requests.post(url, data=body, headers=headers, timeout=30)
        except requests.ConnectionError:
            continue
    raise AssertionError("the server never took the request")


@pytest.mark.catalogue("AC-02")
@pytest.mark.django_db(transaction=True)
def test_one_code_redeemed_by_25_requests_at_once_yields_one_token(
    requires_postgres, live_server, client, web_agent, alice, settings
):
    from ..conftest import OAuthClient

    client.force_login(alice)
    oauth = OAuthClient(client)
    code, verifier = oauth.code_flow(web_agent, "documents:read")
    body = urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://agent.example/cb",
            "code_verifier": verifier,
        }
    )
    headers = {
        "Authorization": basic_auth(web_agent)["HTTP_AUTHORIZATION"],
        "Content-Type": "application/x-www-form-urlencoded",
    }
    barrier = threading.Barrier(25)
    statuses = []

    def redeem():
        barrier.wait()
        statuses.append(post_once_received(f"{live_server.url}/o/token/", body, headers).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [400] * 24
    from agentauth.identity.models import AccessToken

    assert AccessToken.objects.count() == 1


@pytest.mark.catalogue("RT-03")
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_refreshes_yield_at_most_one_successor(requires_postgres, live_server, client, web_agent, alice):
    from ..conftest import OAuthClient

    client.force_login(alice)
    tokens = OAuthClient(client).tokens_for(web_agent, "documents:read")
    body = urlencode({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    headers = {
        "Authorization": basic_auth(web_agent)["HTTP_AUTHORIZATION"],
        "Content-Type": "application/x-www-form-urlencoded",
    }
    barrier = threading.Barrier(10)
    responses = []

    def rotate():
        barrier.wait()
        responses.append(post_once_received(f"{live_server.url}/o/token/", body, headers))

    threads = [threading.Thread(target=rotate) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(response.status_code in (200, 400) for response in responses)
    successes = [response.json()["refresh_token"] for response in responses if response.status_code == 200]
    assert len(successes) <= 1


@pytest.mark.catalogue("RV-02")
@pytest.mark.django_db(transaction=True)
def test_a_token_asked_for_while_its_grant_is_narrowed_never_carries_the_removed_scope(
    requires_postgres, live_server, cc_agent, alice
):
    """The token request reads the owner's grant as it stands (the narrowing has not committed),
    then writes its token only while the grant is unchanged, share-locking it in that statement:
    the write waits for the narrowing, finds the grant changed, and the request starts again from
    what the narrowing left. Without the guard it would answer with the old scopes, and its token
    would outlive the narrowing's revocation of the grant's tokens."""
    holding, finish = threading.Event(), threading.Event()

    def narrow():
        with transaction.atomic():
            grants.set_scopes(alice, cc_agent, ["documents:read"])
            holding.set()
            finish.wait(10)
        connections.close_all()

    narrowing = threading.Thread(target=narrow)
    narrowing.start()
    assert holding.wait(10)
    answers = []
    body = urlencode({"grant_type": "client_credentials", "scope": "documents:read documents:write"})
    headers = {
        "Authorization": basic_auth(cc_agent)["HTTP_AUTHORIZATION"],
        "Content-Type": "application/x-www-form-urlencoded",
    }
    asking = threading.Thread(
        target=lambda: answers.append(post_once_received(f"{live_server.url}/o/token/", body, headers))
    )
    asking.start()
    asking.join(1)
    waited = asking.is_alive()
    finish.set()
    narrowing.join(10)
    asking.join(10)

    assert waited, "the token request did not wait for the narrowing"
    assert answers[0].status_code == 200
    assert answers[0].json()["scope"] == "documents:read"


@pytest.mark.catalogue("FT-01")
def test_revocations_survive_a_redis_restart(redis_url, oauth, cc_agent, client):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}")
    from agentauth.identity import lifecycle

    lifecycle.suspend(cc_agent)
    cache.clear()  # Redis restarted without persistence: every key is gone, the marker too

    response = client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert revocation.agent_key(cc_agent.client_id) in revocation.mirror.revoked  # reloaded from the database


@pytest.mark.catalogue("FT-01")
def test_revocation_check_falls_back_to_the_database_when_redis_is_down(oauth, cc_agent, client, settings, db):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    from agentauth.identity import lifecycle

    lifecycle.suspend(cc_agent)
    assert Revocation.objects.exists()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    revoked = client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert revoked.status_code == 401


def test_when_neither_redis_nor_the_database_can_answer_the_api_fails_closed(oauth, cc_agent, client, monkeypatch):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    from django.db import DatabaseError

    def db_down(*args, **kwargs):
        raise DatabaseError("database down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(revocation.mirror, "_sync", lambda client: False)  # nor the generation
    monkeypatch.setattr(revocation.Revocation.objects, "filter", db_down)

    response = client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


@pytest.mark.django_db(transaction=True)
def test_a_cold_key_cache_never_shows_a_half_loaded_key_set(oauth, cc_agent, monkeypatch):
    from agentauth.identity import keys, tokens

    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    keys.clear_cache()
    published = keys.published_keys

    def slowly_published():
        time.sleep(0.2)  # widen the window in which a reload is half done
        return published()

    monkeypatch.setattr(keys, "published_keys", slowly_published)
    outcomes = []

    def verify(arrives_after):
        time.sleep(arrives_after)  # some arrive while the first load runs, some just after it
        try:
            tokens.verify_access_token(token)
            outcomes.append("ok")
        except tokens.InvalidToken as error:
            outcomes.append(str(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=verify, args=(0.05 * n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["ok"] * 8


def test_a_redis_that_comes_back_empty_makes_every_copy_reload(redis_url, cc_agent, monkeypatch):
    key = revocation.agent_key(cc_agent.client_id)
    assert revocation.mirror.answer([key]) is False  # loaded, at some generation
    cache.clear()  # Redis restarted empty: the counter is gone
    Revocation.objects.create(key=key)  # a revocation whose announcement was lost with it
    monkeypatch.setattr(revocation.mirror, "checked_at", float("-inf"))  # time for the next check
    assert revocation.mirror.answer([key]) is True
