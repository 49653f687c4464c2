"""What live delivery pushes and sends when something changes below: approvals, consent, agents,
alerts and sessions. Pushes and tasks leave only after the change commits."""

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from agentauth.consent.signals import grant_narrowed, grant_revoked
from agentauth.identity.signals import agent_disabled
from agentauth.lib.tasks import enqueue
from agentauth.monitoring.signals import alert_raised
from approvals.models import ApprovalRequest
from approvals.signals import approval_changed
from portal.signals import sessions_ended

from . import events, notifications, tasks
from .consumers import session_group

# A CIBA client in ping mode hears when its request leaves pending (CIBA §10.2).
CIBA_PING = {
    ApprovalRequest.Status.APPROVED,
    ApprovalRequest.Status.DENIED,
    ApprovalRequest.Status.EXPIRED,
    ApprovalRequest.Status.CANCELLED,
}


@receiver(approval_changed)
def tell_about_an_approval(sender, approval, event, **kwargs):
    if event is not None:
        events.approval_changed(approval, event)
    if event == "approval.created":
        enqueue(tasks.notify_person, approval.pk)
    if notifications.has_word_for_its_agent(approval):  # not a worker's round for nothing to say
        enqueue(tasks.call_back_agent, approval.pk)
    if approval.source == "ciba" and approval.agent.ciba_delivery_mode == "ping" and approval.status in CIBA_PING:
        enqueue(tasks.ping_ciba_client, approval.pk)


@receiver(grant_revoked)
def show_a_revoked_grant(sender, user, agent, **kwargs):
    events.agent_changed(user.pk, agent, "revoked")


@receiver(grant_narrowed)
def show_a_narrowed_grant(sender, grant, removed, **kwargs):
    events.agent_changed(grant.user_id, grant.agent, "narrowed")


@receiver(agent_disabled)
def show_a_switched_off_agent(sender, agent, **kwargs):
    users = set(agent.approval_requests.values_list("user_id", flat=True).distinct()) | set(
        agent.grants.values_list("user_id", flat=True)
    )
    for user_id in users:
        events.agent_changed(user_id, agent, agent.status)


@receiver(alert_raised)
def tell_the_person_about_an_alert(sender, alert, **kwargs):
    if alert.user_id is None:
        return
    events.alert_raised(alert)
    enqueue(tasks.email_alert, alert.pk)


@receiver(user_logged_out)
def close_the_sockets_of_this_session(sender, request, user, **kwargs):
    if request is not None and request.session.session_key:
        events.send(session_group(request.session.session_key), {"type": "session.ended"})


@receiver(sessions_ended)
def close_the_sockets_of_ended_sessions(sender, session_keys, **kwargs):
    for key in session_keys:
        events.send(session_group(key), {"type": "session.ended"})
