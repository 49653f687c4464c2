"""What happened: an agent's timeline for its person, the consent history and its receipt."""

import json

from django.contrib.auth.decorators import login_required
from django.db.models import Q, Sum
from django.db.models.functions import TruncHour
from django.http import HttpResponse
from django.shortcuts import render

from agentauth.audit.models import AuditEvent
from agentauth.consent.models import GrantChange
from agentauth.monitoring.models import ActivityMinute

from . import services

TIMELINE_KINDS = {
    "": "Everything",
    "api": "API calls",
    "token.": "Tokens",
    "consent.": "Permissions",
    "approval.": "Approvals",
    "alert.": "Alerts",
    "agent.": "Agent changes",
}


def is_date(request):
    value = request.GET.get("day", "")
    return len(value) == 10 and value[4] == "-" and value[7] == "-"


def timeline(user, agent, kind="", day=None, limit=100):
    """What the agent did for this person: audit events plus API calls summed per hour."""
    entries = []
    if kind != "api":
        # Events about the agent itself (no person: registered, suspended, a refused token) belong
        # to its owner; someone who merely granted it sees only their own.
        mine = Q(subject=user) | Q(subject__isnull=True) if agent.user_id == user.pk else Q(subject=user)
        events = AuditEvent.objects.filter(mine, client_id=agent.client_id)
        if kind:
            events = events.filter(event__startswith=kind)
        if day:
            events = events.filter(at__date=day)
        entries += [
            {"at": event.at, "text": describe_event(event), "outcome": event.outcome} for event in events[:limit]
        ]
    if kind in ("", "api"):
        calls = ActivityMinute.objects.filter(client_id=agent.client_id, user=user)
        if day:
            calls = calls.filter(minute__date=day)
        hourly = (
            calls.annotate(hour=TruncHour("minute"))
            .values("hour")
            .annotate(calls=Sum("calls"), refused=Sum("refused"), insufficient=Sum("insufficient_scope"))
            .order_by("-hour")[:limit]
        )
        for row in hourly:
            text = f"API: {row['calls']} call(s)"
            if row["refused"] or row["insufficient"]:
                text += f", {row['refused'] + row['insufficient']} refused"
            entries.append({"at": row["hour"], "text": text, "outcome": "success" if not row["refused"] else "failure"})
    return sorted(entries, key=lambda entry: entry["at"], reverse=True)[:limit]


def describe_event(event):
    details = event.details or {}
    if event.event.startswith("consent."):
        parts = [
            f"added {', '.join(details['added'])}" if details.get("added") else "",
            f"removed {', '.join(details['removed'])}" if details.get("removed") else "",
        ]
        return f"Permissions {event.event.split('.', 1)[1]}: {'; '.join(filter(None, parts))}"
    texts = {
        "token.issued": f"Got an access token for {event.scope}",
        "token.refused": f"Was refused a token ({details.get('error', 'error')})",
        "approval.requested": f"Asked you to approve {details.get('action', '')}",
        "approval.approved": "Approved"
        + (" automatically, below your limit" if details.get("automatic") else " by you"),
        "approval.denied": "Denied by you",
        "approval.expired": "An approval expired unanswered",
        "approval.cancelled": "An approval was cancelled",
        "approval.executed": "The approved action ran",
        "approval.failed": f"The approved action failed: {details.get('reason', '')}",
        "alert.raised": f"Alert: {details.get('summary', '')}",
        "agent.registered": "Registered",
        "agent.suspended": "Suspended",
        "agent.resumed": "Resumed",
        "agent.revoked": "Revoked",
        "agent.secret_rotated": "Secret rotated",
    }
    return texts.get(event.event, event.event)


@login_required
def history(request):
    changes = GrantChange.objects.filter(grant__user=request.user).select_related("grant__agent")[:200]
    return render(request, "portal/history.html", {"changes": changes})


@login_required
def receipt(request):
    body = json.dumps(services.consent_receipt(request.user), indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="agentauth-consent-receipt.json"'
    response["Cache-Control"] = "no-store"
    return response
