"""Alerts: recorded once an hour per rule, agent and person; a high one may suspend the agent."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from agentauth.audit import trail
from agentauth.identity import lifecycle

from . import signals
from .models import Alert


def person_of(subject):
    return get_user_model().objects.filter(pk=subject).first() if str(subject).isdigit() else None


@transaction.atomic
def raise_alert(rule, agent, user, severity, summary, evidence):
    """Record an alert (once an hour per rule, agent and person); high severity may suspend the agent."""
    recent = Alert.objects.filter(rule=rule, agent=agent, user=user, created_at__gt=timezone.now() - timedelta(hours=1))
    if recent.exists():
        return None
    alert = Alert.objects.create(
        user=user, agent=agent, rule=rule, severity=severity, summary=summary[:300], evidence=evidence
    )
    trail.record(
        "alert.raised", subject=user, agent=agent, details={"rule": rule, "severity": severity, "summary": summary}
    )
    if severity == Alert.Severity.HIGH and settings.AGENTAUTH_AUTO_SUSPEND and agent.is_active:
        lifecycle.suspend(agent)
        alert.agent_suspended = True
        alert.save(update_fields=["agent_suspended"])
    signals.alert_raised.send(Alert, alert=alert)
    return alert
