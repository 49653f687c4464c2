"""A person's passkeys (WebAuthn public key credentials): sign-in and step-up without a password."""

from django.conf import settings
from django.db import models


class Passkey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="passkeys")
    name = models.CharField(max_length=100, help_text="What the person called it, e.g. 'Work laptop'")
    credential_id = models.BinaryField(max_length=1023, unique=True)
    public_key = models.BinaryField(help_text="COSE public key, as the authenticator gave it")
    # The WebAuthn user.id shared by all of one person's passkeys: random, not their primary key.
    user_handle = models.BinaryField(max_length=64)
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)
    backed_up = models.BooleanField(default=False, help_text="Synced to the person's other devices")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.name} ({self.user})"
