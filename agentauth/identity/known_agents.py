"""The agents token requests read, remembered by each process.

Every token request needs its agent (secret hash, status, grant types), the agent's owner and
its registered scopes: two queries, a fifth of a token's CPU. A process keeps what it loaded, by
client_id, and answers from it only while both hold:

- the agents' version in Redis is the one it was loaded at. Every change to an agent, its
  registered scopes, a scope or a person sets a new version, at once and again on commit, and the
  token endpoint reads the version in the rate limiter's own round trip, so the next token
  request anywhere sees the change;
- it was loaded less than MAX_AGE ago, so a change whose new version was lost (Redis unreachable
  at that moment) is still seen within a second, as the revocation list's copies are.

Without a version (no Redis, Redis not answering, or outside the token endpoint) the database
answers. Callers get a copy: what one request sets on its agent stays in that request.
"""

import contextlib
import contextvars
import copy
import secrets
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agentauth.lib import redis_client

from . import lookups
from .models import Agent, registered_scope_names

VERSION_KEY = "agentauth:agents:version"
MAX_AGE = 1.0  # seconds
KNOWN_MAX = 10_000  # agents per process; past it, it starts again empty
LAST_USED_PRECISION = timedelta(minutes=1)

_version = contextvars.ContextVar("agentauth_agents_version", default=None)
_known = {}  # client_id -> (version, monotonic time loaded, agent)


@contextlib.contextmanager
def at_version(version):
    """Within this block, `get` trusts what was loaded at `version` (None: trust nothing)."""
    token = _version.set(version)
    try:
        yield
    finally:
        _version.reset(token)


def get(client_id):
    """The agent with its owner and registered scope names; raises Agent.DoesNotExist."""
    version = _version.get()
    known = _known.get(client_id)
    if version is not None and known is not None and known[0] == version and time.monotonic() - known[1] < MAX_AGE:
        return _copy(known[2])
    agent = load(client_id)
    if version is None:
        return agent
    if len(_known) >= KNOWN_MAX:
        _known.clear()
    _known[client_id] = (version, time.monotonic(), agent)
    return _copy(agent)


def load(client_id):
    """The agent, its owner and its registered scope names, from the database: three plain SELECTs
    (two compiled once, lib.selects), which cost less CPU than one select_related query."""
    agent = lookups.agent_by_client_id.get(client_id=client_id)
    if agent.user_id is not None:
        agent.user = lookups.person.get(pk=agent.user_id)
    agent.allowed_scope_names = registered_scope_names(agent)
    return agent


def _copy(agent):
    found = copy.copy(agent)  # Django copies the instance's state and its related-object cache
    if agent.user is not None:
        found.user = copy.copy(agent.user)  # a person's permission cache must not outlive a request
    return found


def mark_used(agent):
    """Note that `agent` got a token. A minute is precision enough, and saves a write to a hot row
    per token; the remembered agent learns it too, or every request would write it again."""
    now = timezone.now()
    if agent.last_used_at is not None and now - agent.last_used_at <= LAST_USED_PRECISION:
        return
    Agent.objects.filter(pk=agent.pk).update(last_used_at=now)
    agent.last_used_at = now
    known = _known.get(agent.client_id)
    if known is not None and known[2].pk == agent.pk:
        known[2].last_used_at = now


def forget():
    """Start afresh (tests)."""
    _known.clear()


def changed():
    """Something a remembered agent carries changed: a new version now (failing safe, as a
    revocation does: a rollback costs a reload) and once committed (a reload between the two
    reads the old row)."""
    _new_version()
    transaction.on_commit(_new_version)


def _new_version():
    _known.clear()  # this process sees its own change even without Redis
    if settings.REDIS_URL:
        with contextlib.suppress(redis.RedisError):
            redis_client.client(settings.REDIS_URL).set(VERSION_KEY, secrets.token_hex(8))
