"""How approvals hear about consent changes (the core sends signals; it never imports upward)."""

from datetime import timedelta

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone

from agentauth import reviews, signals

from . import events, services, tasks
from .consumers import session_group
from .models import ApprovalRequest


@receiver(signals.grant_revoked)
def cancel_when_consent_is_withdrawn(sender, user, agent, **kwargs):
    services.cancel_pending(agent=agent, user=user, reason="You withdrew this agent's access.")
    events.agent_changed(user.pk, agent, "revoked")


@receiver(signals.grant_narrowed)
def cancel_when_a_scope_is_removed(sender, grant, removed, **kwargs):
    services.cancel_pending(agent=grant.agent, user=grant.user, scopes=removed, reason="That permission was removed.")
    events.agent_changed(grant.user_id, grant.agent, "narrowed")


@receiver(signals.agent_disabled)
def cancel_when_the_agent_is_switched_off(sender, agent, **kwargs):
    users = set(agent.approval_requests.pending().values_list("user_id", flat=True)) | set(
        agent.grants.values_list("user_id", flat=True)
    )
    services.cancel_pending(agent=agent, reason=f"The agent was {agent.status}.")
    for user_id in users:
        events.agent_changed(user_id, agent, agent.status)


@receiver(user_logged_in)
def remember_when_the_person_signed_in(sender, request, user, **kwargs):
    # High-risk approvals need a recent sign-in (AP-09).
    request.session["auth_time"] = int(timezone.now().timestamp())


@receiver(user_logged_out)
def close_the_sockets_of_this_session(sender, request, user, **kwargs):
    if request is not None and request.session.session_key:
        events.send(session_group(request.session.session_key), {"type": "session.ended"})


@receiver(signals.sessions_ended)
def close_the_sockets_of_ended_sessions(sender, session_keys, **kwargs):
    for key in session_keys:
        events.send(session_group(key), {"type": "session.ended"})


@receiver(signals.alert_raised)
def tell_the_person_about_an_alert(sender, alert, **kwargs):
    if alert.user_id is None:
        return
    events.alert_raised(alert)
    tasks.enqueue(tasks.email_alert, alert.pk)


@reviews.register
def approvals_pending_too_long(user):
    stale = ApprovalRequest.objects.live().filter(created_at__lt=timezone.now() - timedelta(minutes=10))
    if user is not None:
        stale = stale.filter(user=user)
    for approval in stale.select_related("agent", "user"):
        yield reviews.Finding(
            "approval_pending_long",
            "low",
            f"{approval.agent.name} has been waiting over 10 minutes: {approval.describe()}",
            approval.user.get_username(),
            approval.agent.client_id,
        )
