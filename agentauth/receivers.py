"""Keep the revocation list in step with the token tables."""

from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from . import revocation
from .models import AccessToken


@receiver(post_delete, sender=AccessToken)
def denylist_deleted_access_token(sender, instance, **kwargs):
    # DOT revokes an access token by deleting its row; the JWT itself lives on until `exp`, so
    # its jti must be refused by every API until then. Expired tokens need no entry.
    if instance.jti and instance.expires > timezone.now():
        revocation.add(revocation.jti_key(instance.jti), instance.expires)
