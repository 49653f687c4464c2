"""Where a person can be reached besides an open tab: their browsers' Web Push subscriptions."""

from django.conf import settings
from django.db import models


class PushSubscription(models.Model):
    """One browser on one device that agreed to be notified (the standard PushSubscription JSON)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True, help_text="The push service URL for this browser")
    p256dh = models.CharField(max_length=100, help_text="The browser's P-256 key (RFC 8291)")
    auth = models.CharField(max_length=40, help_text="The browser's authentication secret (RFC 8291)")
    device = models.CharField(max_length=200, blank=True, help_text="What the person sees in their list")
    created_at = models.DateTimeField(auto_now_add=True)
    last_delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} on {self.device or 'a browser'}"

    def as_subscription_info(self):
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
