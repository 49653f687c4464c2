"""An approval as a person's screen shows it (the live feed, the inbox, the decision API), and as
its agent may know it (the status URL, its long-poll, the agent's list)."""

from django.conf import settings
from django.urls import reverse

from agentauth.consent import delegations

from .models import ApprovalRequest


def card(approval):
    """What a person's screen needs to show an approval without another request."""
    return {
        "id": approval.pk,
        "status": approval.effective_status,
        "summary": approval.describe(),
        "facts": [[label, value] for label, value in approval.facts()],
        "agent": {"client_id": approval.agent.client_id, "name": approval.agent.name},
        "scope": approval.scope,
        "scope_description": approval.scope_description,
        "risk": approval.risk,
        "binding_message": approval.binding_message,
        "automatic": approval.automatic,
        "created_at": approval.created_at.isoformat(),
        "expires_at": approval.expires_at.isoformat(),
        "reason": approval.reason,
        "url": reverse("approvals:detail", args=[approval.pk]),
    }


def asked_by(approval):
    """Who asks, as a notification names them: the agent, and the agents that handed it the work."""
    via = delegations.handed_on_by(approval.token_jti)
    return approval.agent.name + (f" (handed on by {' → '.join(agent.name for agent in via)})" if via else "")


def agent_view(approval):
    """What the agent may know of its approval: the outcome, never who decided."""
    body = {
        "approval_id": approval.pk,
        "status": approval.effective_status,
        "action": approval.action,
        "authorization_details": approval.authorization_details,
        "expires_at": approval.expires_at.isoformat(),
        "interval": settings.APPROVAL_POLL_INTERVAL,
    }
    if approval.effective_status == ApprovalRequest.Status.EXECUTED:
        body["result"] = approval.result
    if approval.effective_status in (ApprovalRequest.Status.FAILED, ApprovalRequest.Status.CANCELLED):
        body["reason"] = approval.reason
    if approval.effective_status == ApprovalRequest.Status.DENIED and approval.reason:
        body["reason"] = approval.reason
    return body
