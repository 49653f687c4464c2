"""Keep the revocation list in step with the token tables and the people they act for, and the
agents token requests remember with the agents, their scopes and their people."""

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from agentauth.audit import trail

from . import known_agents, lifecycle, revocation
from .models import AccessToken, Agent, Scope
from .signals import agents_updated


@receiver(post_save, sender=Agent)
def audit_a_client_that_described_itself(sender, instance, created, **kwargs):
    # Registered on first sight of its client_id URL (CIMD), by django-oauth-toolkit.
    if created and instance.registration_source == "cimd":
        trail.record("agent.registered", agent=instance, details={"via": "cimd", "host": instance.metadata_host})


@receiver(post_delete, sender=AccessToken)
def denylist_deleted_access_token(sender, instance, **kwargs):
    # DOT revokes an access token by deleting its row; the JWT itself lives on until `exp`, so
    # its jti must be refused by every API until then. Expired tokens need no entry.
    if instance.jti and instance.expires > timezone.now():
        revocation.add(revocation.jti_key(instance.jti), instance.expires)


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def notice_credential_change(sender, instance, update_fields=None, **kwargs):
    if instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    instance._agentauth_sign_out = bool(
        before and (before["password"] != instance.password or (before["is_active"] and not instance.is_active))
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def revoke_tokens_when_credentials_change(sender, instance, **kwargs):
    # A new password or a disabled account ends every session, the agents' included (RT-06).
    if getattr(instance, "_agentauth_sign_out", False):
        instance._agentauth_sign_out = False
        lifecycle.revoke_person_tokens(instance)


@receiver(post_save, sender=Agent)
@receiver(post_delete, sender=Agent)
@receiver(agents_updated, sender=Agent)
@receiver(m2m_changed, sender=Agent.allowed_scopes.through)
@receiver(post_save, sender=Scope)
@receiver(post_delete, sender=Scope)
def agents_changed(sender, **kwargs):
    known_agents.changed()


@receiver(m2m_changed, sender=Agent.allowed_scopes.through)
def forget_the_scope_names_read(sender, instance, action, **kwargs):
    # Agent.scope_names() reads once per instance; the instance whose scopes change reads again.
    if isinstance(instance, Agent) and action.startswith("post_"):
        instance.__dict__.pop("allowed_scope_names", None)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def person_changed(sender, update_fields=None, **kwargs):
    # An owner deactivated, deleted, ...; but not every sign-in, which saves `last_login`.
    if update_fields is None or set(update_fields) != {"last_login"}:
        known_agents.changed()
