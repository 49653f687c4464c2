"""Sign-ins, failed sign-ins, sign-outs and admin changes go on the audit trail."""

from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import trail


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs):
    method = getattr(request, "signin_method", "password")
    trail.record("signin.success", actor=user.get_username(), subject=user, details={"method": method})


@receiver(user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs):
    # The attempted username only; never the password (Django already masks it).
    trail.record("signin.failure", outcome="failure", details={"username": str(credentials.get("username", ""))[:150]})


@receiver(user_logged_out)
def audit_sign_out(sender, request, user, **kwargs):
    if user is not None:
        trail.record("signin.logout", actor=user.get_username(), subject=user)


@receiver(post_save, sender=LogEntry, dispatch_uid="agentauth-audit-admin")
def audit_admin_change(sender, instance, created, **kwargs):
    """Django admin actions (LogEntry rows) go into the chain too."""
    if not created:
        return
    trail.record(
        "admin.change",
        actor_type="admin",
        actor=instance.user.get_username() if instance.user_id else "",
        details={
            "action": instance.get_action_flag_display(),
            "object": str(instance.object_repr)[:200],
            "model": str(instance.content_type) if instance.content_type_id else "",
            "change": instance.get_change_message()[:500],
        },
    )
