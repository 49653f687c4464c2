"""Broadcasts to the channel groups of approvals.groups: a person's tabs, an agent's long-poll.

Pushes are hints: the channel layer may drop them, and the database stays the truth. They leave
only after commit, and a push that fails (Redis down) is logged, never raised.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction
from django.urls import reverse

from agentauth.lib.background_loop import background
from approvals.cards import agent_view, card
from approvals.groups import approval_group, person_group

log = logging.getLogger(__name__)
SEND_TIMEOUT = 2  # seconds a caller waits for a push; a hint is not worth longer


def send(group, message, *more):
    """group_send `message` to `group` (and each further (group, message) pair), concurrently."""
    deliveries = [(group, message), *more]
    layer = get_channel_layer()

    async def deliver():
        await asyncio.gather(*(layer.group_send(group, message) for group, message in deliveries))

    try:
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(deliver)()  # its queues belong to the loop the consumers run on
        else:
            background.run(deliver(), SEND_TIMEOUT)  # one connection pool for the process's life
    except Exception:
        groups = ", ".join(group for group, _ in deliveries)
        log.warning("push to %s failed; screens will catch up from the database", groups, exc_info=True)


def approval_changed(approval, event_type):
    """After commit, tell the person's open tabs and anyone long-polling this approval (the
    agent's long-poll answers from the view it is sent, without a query: approvals.api)."""
    for_person = {"type": "approval.event", "event": event_type, "approval": card(approval)}
    for_agent = {"type": "approval.event", "event": event_type, "view": agent_view(approval)}
    transaction.on_commit(
        lambda: send(person_group(approval.user_id), for_person, (approval_group(approval.pk), for_agent))
    )


def agent_changed(user_id, agent, what):
    """After commit, tell the person's open tabs that an agent was revoked, suspended or narrowed."""
    payload = {
        "type": "agent.event",
        "event": "agent.updated",
        "agent": {"client_id": agent.client_id, "name": agent.name, "status": agent.status, "change": what},
    }
    transaction.on_commit(lambda: send(person_group(user_id), payload))


def alert_raised(alert):
    """After commit, show a monitoring alert in the person's open tabs."""
    payload = {
        "type": "agent.event",
        "event": "alert.created",
        "agent": {
            "client_id": alert.agent.client_id,
            "name": alert.agent.name,
            "status": alert.agent.status,
            "change": alert.summary,
        },
        "alert": {
            "id": alert.pk,
            "severity": alert.severity,
            "summary": alert.summary,
            "url": reverse("portal:alerts"),
        },
    }
    transaction.on_commit(lambda: send(person_group(alert.user_id), payload))
