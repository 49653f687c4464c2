"""What monitoring keeps: activity per minute, first sightings, scope use, alerts, preferences."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ActivityMinute(models.Model):
    """API calls of one agent for one person in one minute: aggregated, not one row per call."""

    client_id = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, related_name="+")
    minute = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    insufficient_scope = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "user", "minute"], name="one_activity_row_per_minute")
        ]
        indexes = [models.Index(fields=["client_id", "-minute"], name="activity_agent_minute")]

    def __str__(self):
        return f"{self.client_id} {self.minute:%Y-%m-%d %H:%M}: {self.calls} calls"


class Sighting(models.Model):
    """An IP address or user agent an agent was first seen using, for the "new origin" rule."""

    client_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=10)  # "ip" or "ua"
    value = models.CharField(max_length=300)
    first_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "kind", "value"], name="one_sighting_per_value")]

    def __str__(self):
        return f"{self.client_id} {self.kind} {self.value}"


class ScopeUse(models.Model):
    """When an agent last used a scope for a person: unused grants are found from this."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    agent = models.ForeignKey("agentauth.Agent", models.CASCADE, related_name="scope_uses")
    scope = models.CharField(max_length=80)
    last_used_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "agent", "scope"], name="one_scope_use_row")]

    def __str__(self):
        return f"{self.agent} used {self.scope} for {self.user} at {self.last_used_at}"


class Alert(models.Model):
    """Something an agent did that looks wrong, raised by a monitoring rule."""

    class Severity(models.TextChoices):
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="alerts")
    agent = models.ForeignKey("agentauth.Agent", models.CASCADE, related_name="alerts")
    rule = models.CharField(max_length=60)
    severity = models.CharField(max_length=10, choices=Severity)
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    agent_suspended = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("view_security_report", "Can read the security review of every person")]

    RULE_LABELS = {
        "rate_spike": "Unusually many calls",
        "refusal_burst": "Many refused calls",
        "new_origin": "New IP address or software",
        "unusual_hours": "Active in your quiet hours",
        "repeated_denials": "Requests you keep denying",
    }

    def __str__(self):
        return f"[{self.severity}] {self.summary}"

    @property
    def rule_label(self):
        return self.RULE_LABELS.get(self.rule, self.rule)


class PersonSettings(models.Model):
    """A person's monitoring preferences."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="agent_settings")
    unusual_hours = models.JSONField(default=list, help_text="UTC hours (0-23) when agent calls are unusual")

    def __str__(self):
        return f"settings of {self.user}"
