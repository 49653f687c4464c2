"""The audit trail: append-only records, hash-chained once their transaction commits."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One append-only, hash-chained record of something security-relevant that happened."""

    class Actor(models.TextChoices):
        PERSON = "person"
        AGENT = "agent"
        ADMIN = "admin"
        SYSTEM = "system"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(max_length=60, db_index=True)
    outcome = models.CharField(max_length=20, default="success")
    actor_type = models.CharField(max_length=10, choices=Actor, default=Actor.SYSTEM)
    actor = models.CharField(max_length=255, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    client_id = models.CharField(max_length=255, blank=True, db_index=True)
    scope = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Set when the record is sealed into the chain, shortly after its transaction commits.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["subject", "client_id", "-at"], name="audit_subject_agent_at"),
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M:%S} {self.event} {self.outcome}"


class AuditHead(models.Model):
    """The single row that orders the chain: the sealer locks it while it seals a batch."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return self.last_hash
