"""An approval as a person's screen shows it: the live feed, the inbox and the decision API."""

from django.urls import reverse


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
