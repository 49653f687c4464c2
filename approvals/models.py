"""Approval requests and their state machine: every transition is one compare-and-swap UPDATE."""

import hashlib
import json
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_approval_id():
    """256 bits from the CSPRNG: an approval id cannot be guessed (CIBA §7.3, AP-03)."""
    return secrets.token_urlsafe(32)


def canonical_hash(action, params):
    """SHA-256 of the action and its parameters in canonical JSON: what was shown is what runs."""
    canonical = json.dumps({"action": action, "params": params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class AlreadyDecided(Exception):
    """The request left the state this transition needs (someone, or the clock, got there first)."""

    def __init__(self, approval, status):
        super().__init__(f"approval is {status}")
        self.approval = approval
        self.status = status

    @property
    def error(self):
        """The reason a person sees in the 409 body."""
        return {"expired": "expired", "cancelled": "cancelled"}.get(self.status, "already_decided")


class ApprovalQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=ApprovalRequest.Status.PENDING)

    def live(self):
        return self.pending().filter(expires_at__gt=timezone.now())

    def overdue(self):
        return self.pending().filter(expires_at__lte=timezone.now())

    def for_person(self, user):
        return self.filter(user=user)

    def stuck(self, older_than):
        """Approved but never executed: the worker never got it, or died before committing.

        Not CIBA approvals: they stay approved until their token is used at the API, however long
        the agent takes."""
        approved = self.filter(status=ApprovalRequest.Status.APPROVED, decided_at__lte=timezone.now() - older_than)
        return approved.exclude(source="ciba")


class ApprovalRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DENIED = "denied"
        EXPIRED = "expired"
        CANCELLED = "cancelled"
        EXECUTED = "executed"
        FAILED = "failed"

    FINAL = (Status.DENIED, Status.EXPIRED, Status.CANCELLED, Status.EXECUTED, Status.FAILED)

    id = models.CharField(primary_key=True, max_length=64, default=new_approval_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="approval_requests")
    agent = models.ForeignKey("agentauth.Agent", models.CASCADE, related_name="approval_requests")
    scope = models.CharField(max_length=80)
    action = models.CharField(max_length=100, help_text="Registered action that runs once approved")
    params = models.JSONField(help_text="Exactly what runs, in canonical form")
    params_hash = models.CharField(max_length=64)
    authorization_details = models.JSONField(default=list, help_text="RFC 9396 shape, for people to read")
    binding_message = models.CharField(max_length=100, blank=True)
    risk = models.CharField(max_length=10, default="high")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, help_text="For limits")
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.PENDING, db_index=True)
    automatic = models.BooleanField(default=False, help_text="Decided by the person's policy, not by hand")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, help_text="Why it was denied, cancelled or failed")
    result = models.JSONField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    token_jti = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=10, default="api")
    redeemed_at = models.DateTimeField(null=True, blank=True, help_text="CIBA: when its token was issued (once)")
    notification_token = models.CharField(max_length=500, blank=True, help_text="CIBA ping: the client's bearer")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "user", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_approval_per_idempotency_key",
            )
        ]
        # A CIBA token presented at an API finds its approval by jti (services.redeem_token).
        indexes = [models.Index(fields=["token_jti"], condition=~models.Q(token_jti=""), name="approval_token_jti")]

    def __str__(self):
        return f"{self.action} by {self.agent} for {self.user}: {self.status}"

    # Reads honour the clock, so correctness never waits for the expiry sweep.
    @property
    def effective_status(self):
        if self.status == self.Status.PENDING and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status

    @property
    def is_final(self):
        return self.effective_status in self.FINAL

    def approve(self, *, by, automatic=False):
        self._move(ApprovalRequest.objects.live(), self.Status.APPROVED, decided_by=by, automatic=automatic)

    def deny(self, *, by, reason=""):
        self._move(ApprovalRequest.objects.live(), self.Status.DENIED, decided_by=by, reason=reason[:500])

    def expire(self):
        self._move(ApprovalRequest.objects.overdue(), self.Status.EXPIRED, finished=True)

    def cancel(self, reason):
        self._move(ApprovalRequest.objects.pending(), self.Status.CANCELLED, reason=reason[:500], finished=True)

    def finish(self, *, result=None, failure=""):
        """Approved → executed (with its result) or failed (with the reason)."""
        status = self.Status.FAILED if failure else self.Status.EXECUTED
        approved = ApprovalRequest.objects.filter(status=self.Status.APPROVED)
        self._move(approved, status, result=result, reason=failure[:500], finished=True)

    def hand_out_token(self, jti):
        """CIBA: its one token was issued. The status stays approved until that token is used."""
        now = timezone.now()
        fresh = ApprovalRequest.objects.filter(pk=self.pk, status=self.Status.APPROVED, redeemed_at__isnull=True)
        if not fresh.update(redeemed_at=now, token_jti=jti):
            self.refresh_from_db()
            raise AlreadyDecided(self, "redeemed")
        self.redeemed_at, self.token_jti = now, jti

    def _move(self, allowed, status, *, decided_by=None, finished=False, **fields):
        # Compare-and-swap: one conditional UPDATE; two people, two tabs or a person and the
        # sweep can race, and exactly one of them wins.
        now = timezone.now()
        if status in (self.Status.APPROVED, self.Status.DENIED):
            fields |= {"decided_by": decided_by, "decided_at": now}
        if finished or status == self.Status.DENIED:
            fields["finished_at"] = now
        if not allowed.filter(pk=self.pk).update(status=status, **fields):
            self.refresh_from_db()
            raise AlreadyDecided(self, self.effective_status)
        self.status = status
        for name, value in fields.items():
            setattr(self, name, value)

    def matches(self, action, params):
        return self.action == action and self.params_hash == canonical_hash(action, params)

    # The action says itself what a person reads; actions imports this module, hence the late imports.
    def describe(self):
        """The action in one line."""
        from .actions import describe

        return describe(self)

    @property
    def scope_description(self):
        """The scope in words, as the catalogue says it ("Make payments from your account")."""
        from agentauth.identity.scopes import catalogue

        entry = catalogue.all().get(self.scope)
        return entry.description if entry else self.scope

    def facts(self):
        """(label, value) pairs the decision screen lists beside what the authorization details say."""
        from .actions import facts

        return facts(self)


class ApprovalPolicy(models.Model):
    """When a person wants to be asked. The most specific matching policy wins."""

    class Mode(models.TextChoices):
        ALWAYS = "always", "Always ask me"
        ABOVE = "above", "Ask me above a limit"
        NEVER = "never", "Never ask (not allowed for high-risk scopes)"

    scope = models.CharField(max_length=80, help_text="e.g. payments:execute")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True)
    agent = models.ForeignKey("agentauth.Agent", models.CASCADE, null=True, blank=True)
    mode = models.CharField(max_length=10, choices=Mode, default=Mode.ALWAYS)
    limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    budget = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="At most this much approved automatically per window; beyond it, ask (in the limit's currency)",
    )
    budget_hours = models.PositiveIntegerField(default=24, help_text="The budget's window, in hours")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "approval policies"

    def __str__(self):
        who = f"{self.user or 'everyone'} / {self.agent or 'any agent'}"
        if self.mode == self.Mode.ABOVE:
            budget = f", at most {self.budget} per {self.budget_hours} h" if self.budget is not None else ""
            return f"{self.scope} ({who}): ask above {self.limit} {self.currency}{budget}"
        return f"{self.scope} ({who}): {self.get_mode_display()}"
