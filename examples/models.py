"""The example APIs' data: a person's documents, payments and calendar invitations."""

from django.conf import settings
from django.db import models


class Document(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=100_000)
    created_by_agent = models.CharField(max_length=255, blank=True, help_text="client_id of the agent")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class Payment(models.Model):
    """A payment that ran: one per approval, enforced by the database."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    to = models.CharField(max_length=140)
    memo = models.CharField(max_length=140, blank=True)
    approval = models.OneToOneField("approvals.ApprovalRequest", models.PROTECT, related_name="payment")
    created_by_agent = models.CharField(max_length=255, blank=True)
    executed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-executed_at", "-id"]

    def __str__(self):
        return f"{self.amount} {self.currency} to {self.to}"


class Invitation(models.Model):
    """A calendar invitation that was sent: one per invitee and approval, enforced by the database."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="invitations")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    invitee = models.EmailField()
    approval = models.ForeignKey("approvals.ApprovalRequest", models.PROTECT, related_name="invitations")
    created_by_agent = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "invitee"]
        constraints = [models.UniqueConstraint(fields=["approval", "invitee"], name="one_invitation_per_invitee")]

    def __str__(self):
        return f"{self.title} to {self.invitee}"
