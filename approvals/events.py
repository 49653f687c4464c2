"""Channel group names and broadcasts, shared by producers (services) and consumers.

Pushes are hints: the channel layer may drop them, and the database stays the truth. They leave
only after commit, and a push that fails (Redis down) is logged, never raised.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

log = logging.getLogger(__name__)


def person_group(user_id):
    return f"approvals.user.{int(user_id)}"


def approval_group(approval_id):
    # Approval ids are URL-safe base64; group names allow ASCII letters, digits, '-', '_' and '.'.
    return f"approvals.request.{approval_id}"


def serialize(approval):
    """What a person's screen needs to show an approval without another request."""
    return {
        "id": approval.pk,
        "status": approval.effective_status,
        "summary": approval.describe(),
        "agent": {"client_id": approval.agent.client_id, "name": approval.agent.name},
        "scope": approval.scope,
        "risk": approval.risk,
        "binding_message": approval.binding_message,
        "automatic": approval.automatic,
        "created_at": approval.created_at.isoformat(),
        "expires_at": approval.expires_at.isoformat(),
        "reason": approval.reason,
        "url": reverse("approvals:detail", args=[approval.pk]),
    }


def send(group, message):
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        log.warning("push to %s failed; screens will catch up from the database", group, exc_info=True)


def approval_changed(approval, event_type):
    """After commit, tell the person's open tabs and anyone long-polling this approval."""
    payload = {"type": "approval.event", "event": event_type, "approval": serialize(approval)}

    def push():
        send(person_group(approval.user_id), payload)
        send(approval_group(approval.pk), {"type": "approval.event", "event": event_type})

    transaction.on_commit(push)


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
            "url": reverse("consent:alerts"),
        },
    }
    transaction.on_commit(lambda: send(person_group(alert.user_id), payload))
