"""Token requests answer from the agents each process remembers, and never from a stale one: any
change to an agent, its scopes or its person is seen by the next token request, in this process
and in any other, and a change whose new version was lost is seen within a second."""

import base64
import time

import pytest
import requests
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agentauth.identity import known_agents, lifecycle
from agentauth.identity.models import Agent, Scope
from agentauth.oauth.registration import rotate_secret

from ..servers import asgi_server

pytestmark = pytest.mark.django_db

CC = {"grant_type": "client_credentials"}


def agent_reads(oauth, agent):
    """The queries a token request sends for the agent's own row; and the answer."""
    with CaptureQueriesContext(connection) as queries:
        answer = oauth.token(CC, agent)
    return sum('FROM "agentauth_agent"' in query["sql"] for query in queries), answer


def test_a_token_request_reads_its_agent_once_then_remembers_it(redis_url, oauth, cc_agent):
    first, answered = agent_reads(oauth, cc_agent)
    again, answered_again = agent_reads(oauth, cc_agent)

    assert (answered.status_code, answered_again.status_code) == (200, 200)
    assert (first, again) == (1, 0)


def test_what_one_request_sets_on_its_agent_stays_in_that_request(redis_url, oauth, cc_agent):
    oauth.token(CC, cc_agent)
    with known_agents.at_version(known_agents._known[cc_agent.client_id][0]):
        lent = known_agents.get(cc_agent.client_id)
        lent.status, lent.user.is_active = Agent.Status.REVOKED, False
        assert known_agents.get(cc_agent.client_id).is_active
        assert known_agents.get(cc_agent.client_id).user.is_active


def suspend(agent, alice):
    lifecycle.suspend(agent)


def disable_by_update(agent, alice):
    Agent.objects.filter(pk=agent.pk).update(status=Agent.Status.SUSPENDED)


def drop_the_grant_type(agent, alice):
    agent.grant_types = ["authorization_code"]
    agent.save()


def deactivate_the_owner(agent, alice):
    alice.is_active = False
    alice.save()


def rotate_the_secret(agent, alice):
    rotate_secret(agent)


@pytest.mark.parametrize(
    "change", [suspend, disable_by_update, drop_the_grant_type, deactivate_the_owner, rotate_the_secret]
)
def test_the_next_token_request_sees_a_change_to_the_agent_or_its_person(redis_url, oauth, cc_agent, alice, change):
    assert oauth.token(CC, cc_agent).status_code == 200  # remembered now

    change(Agent.objects.get(pk=cc_agent.pk), alice)

    assert oauth.token(CC, cc_agent).status_code in (400, 401)


def test_the_next_token_request_sees_new_registered_scopes(redis_url, oauth, cc_agent):
    write = CC | {"scope": "documents:write"}
    assert oauth.token(write, cc_agent).status_code == 200

    cc_agent.allowed_scopes.set(Scope.objects.filter(name="documents:read"))

    assert oauth.token(write, cc_agent).json()["error"] == "invalid_scope"


def test_the_next_token_request_sees_a_scope_that_now_needs_a_permission(redis_url, oauth, cc_agent):
    assert oauth.token(CC, cc_agent).json()["scope"] == "documents:read documents:write"
    permission = Permission.objects.get(codename="change_agent")  # one the owner does not hold

    Scope.objects.filter(name="documents:write").update(permission=f"agentauth.{permission.codename}")
    Scope.objects.get(name="documents:write").save()  # an admin's edit

    assert oauth.token(CC, cc_agent).json()["scope"] == "documents:read"


def test_a_change_whose_new_version_was_lost_is_seen_within_a_second(redis_url, oauth, cc_agent):
    assert oauth.token(CC, cc_agent).status_code == 200
    with connection.cursor() as cursor:  # behind the application's back: no signal, no new version
        cursor.execute("UPDATE agentauth_agent SET status = 'suspended' WHERE id = %s", [cc_agent.pk])

    time.sleep(known_agents.MAX_AGE + 0.1)

    assert oauth.token(CC, cc_agent).status_code == 401


def test_without_redis_the_database_answers_every_request(settings, oauth, cc_agent):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    assert oauth.token(CC, cc_agent).status_code == 200
    assert known_agents._known == {}

    Agent.objects.filter(pk=cc_agent.pk).update(status=Agent.Status.SUSPENDED)

    assert oauth.token(CC, cc_agent).status_code == 401


@pytest.mark.catalogue("RV-02")
@pytest.mark.django_db(transaction=True)
def test_another_process_refuses_a_suspended_agent_its_very_next_token(redis_url, cc_agent):
    credentials = base64.b64encode(f"{cc_agent.client_id}:{cc_agent.plain_secret}".encode()).decode()

    def token(base):
        return requests.post(
            f"{base}/o/token/", data=CC, headers={"Authorization": f"Basic {credentials}"}, timeout=5
        ).status_code

    with asgi_server() as base:
        before = [token(base), token(base)]  # the second from the server's memory
        lifecycle.suspend(cc_agent)
        after = token(base)

    assert (before, after) == ([200, 200], 401)
