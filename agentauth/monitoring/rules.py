"""Anomaly rules: each looks at one agent, one person and one finished minute, and may raise an alert."""

import time
from datetime import UTC, datetime, timedelta

from django.db.models import Sum

from agentauth.audit.models import AuditEvent
from agentauth.identity.models import Agent

from . import alerts
from .models import ActivityMinute, Alert, PersonSettings


class Window:
    """What the rules look at: one agent, one person, one finished minute, and the hour before it."""

    def __init__(self, agent, user, minute):
        self.agent, self.user = agent, user
        self.at = datetime.fromtimestamp(minute * 60, tz=UTC)
        rows = ActivityMinute.objects.filter(
            client_id=agent.client_id, user=user, minute__gt=self.at - timedelta(hours=1), minute__lte=self.at
        )
        self.now = rows.filter(minute=self.at).first() or ActivityMinute(calls=0, refused=0, insufficient_scope=0)
        earlier = rows.exclude(minute=self.at)
        self.baseline = (earlier.aggregate(total=Sum("calls"))["total"] or 0) / 59
        recent = rows.filter(minute__gt=self.at - timedelta(minutes=5)).aggregate(
            refused=Sum("refused"), insufficient=Sum("insufficient_scope")
        )
        self.refused_5min = (recent["refused"] or 0) + (recent["insufficient"] or 0)


class Rule:
    """An anomaly rule: return a one-line summary when it fires, None otherwise."""

    name = ""
    severity = Alert.Severity.MEDIUM

    def check(self, window):
        raise NotImplementedError


class RateSpike(Rule):
    name, severity = "rate_spike", Alert.Severity.MEDIUM
    floor, factor = 60, 5

    def check(self, window):
        threshold = max(self.floor, self.factor * window.baseline)
        if window.now.calls >= threshold:
            return f"{window.agent.name} made {window.now.calls} calls in a minute (usually {window.baseline:.0f})"
        return None


class RefusalBurst(Rule):
    name, severity = "refusal_burst", Alert.Severity.HIGH
    threshold = 20

    def check(self, window):
        if window.refused_5min >= self.threshold:
            return f"{window.agent.name} was refused {window.refused_5min} times in 5 minutes"
        return None


class UnusualHours(Rule):
    name, severity = "unusual_hours", Alert.Severity.MEDIUM

    def check(self, window):
        preferences = PersonSettings.objects.filter(user=window.user).first() if window.user else None
        if window.now.calls and preferences and window.at.hour in preferences.unusual_hours:
            return f"{window.agent.name} worked at {window.at:%H:%M} UTC, an hour you marked unusual"
        return None


class RepeatedDenials(Rule):
    name, severity = "repeated_denials", Alert.Severity.MEDIUM
    threshold = 3

    def check(self, window):
        denied = AuditEvent.objects.filter(
            event="approval.denied",
            client_id=window.agent.client_id,
            subject=window.user,
            at__gt=window.at - timedelta(hours=1),
        ).count()
        if denied >= self.threshold:
            return f"You denied {denied} of {window.agent.name}'s requests in the last hour"
        return None


RULES = [RateSpike(), RefusalBurst(), UnusualHours(), RepeatedDenials()]


def check_rules(client_id, subject, minute):
    agent = Agent.objects.filter(client_id=client_id).first()
    if agent is None:
        return []
    user = alerts.person_of(subject)
    window = Window(agent, user, minute)
    raised = []
    for rule in RULES:
        summary = rule.check(window)
        if summary:
            evidence = {
                "minute": window.at.isoformat(),
                "calls": window.now.calls,
                "baseline": round(window.baseline, 2),
                "refused_5min": window.refused_5min,
            }
            alert = alerts.raise_alert(rule.name, agent, user, rule.severity, summary, evidence)
            if alert:
                raised.append(alert)
    return raised


def check_denials(agent, user):
    """Run the denial rule at once when a person denies a request (no need to wait for the minute)."""
    window = Window(agent, user, int(time.time() // 60))
    summary = RepeatedDenials().check(window)
    if summary:
        return alerts.raise_alert(RepeatedDenials.name, agent, user, RepeatedDenials.severity, summary, {})
    return None
