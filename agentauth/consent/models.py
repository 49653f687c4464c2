"""Consent: which scopes a person lets each agent use, and the history of every change."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class GrantQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class Grant(models.Model):
    """The consent record: which scopes a person lets one agent use on their behalf."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="agent_grants")
    agent = models.ForeignKey("agentauth.Agent", models.CASCADE, related_name="grants")
    scopes = models.JSONField(default=list)
    granted_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "agent"], name="one_grant_per_person_and_agent")]

    def __str__(self):
        return f"{self.user} → {self.agent}: {' '.join(self.scopes) or '(nothing)'}"

    @property
    def is_active(self):
        return self.revoked_at is None


class GrantChange(models.Model):
    """One entry of a person's consent history: what an agent could do before and after."""

    class Via(models.TextChoices):
        CONSENT = "consent", "Consent screen"
        DEVICE = "device", "Device code"
        PORTAL = "portal", "Portal"
        ADMIN = "admin", "Administrator"
        COMMAND = "command", "Command line"
        BACKCHANNEL = "backchannel", "Approved request (CIBA)"
        SYSTEM = "system", "AgentAuth"

    grant = models.ForeignKey(Grant, models.CASCADE, related_name="changes")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    before = models.JSONField(default=list)
    after = models.JSONField(default=list)
    via = models.CharField(max_length=20, choices=Via, default=Via.SYSTEM)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.grant}: {self.summary}"

    @property
    def added(self):
        return sorted(set(self.after) - set(self.before))

    @property
    def removed(self):
        return sorted(set(self.before) - set(self.after))

    @property
    def summary(self):
        if not self.after:
            return "revoked"
        if not self.before:
            return "granted"
        return "widened" if self.added and not self.removed else "narrowed" if self.removed else "changed"


class DelegationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class Delegation(models.Model):
    """A person's rule that one of their agents may hand work to another (RFC 8693 token
    exchange): a token for the delegate, acting for the person, no wider than the delegator's
    and than `scopes`. Cutting it revokes every token handed on through it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="delegations")
    agent = models.ForeignKey("agentauth.Agent", models.CASCADE, related_name="delegations_out")
    delegate = models.ForeignKey("agentauth.Agent", models.CASCADE, related_name="delegations_in")
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = DelegationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "agent", "delegate"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_delegation_per_pair",
            ),
            models.CheckConstraint(condition=~models.Q(agent=models.F("delegate")), name="delegation_to_another"),
        ]

    def __str__(self):
        return f"{self.user}: {self.agent} → {self.delegate} ({' '.join(self.scopes)})"

    @property
    def is_active(self):
        return self.revoked_at is None
