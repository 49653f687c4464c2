"""How approvals react: to consent changes below (cancel what is pending) and to their own
changes (run what was approved, check a denial against the monitoring rules), on commit."""

from datetime import timedelta

from django.db.models import Count
from django.dispatch import receiver
from django.utils import timezone

from agentauth.consent.signals import grant_narrowed, grant_revoked
from agentauth.identity.signals import agent_disabled
from agentauth.lib import metrics
from agentauth.lib.tasks import enqueue
from agentauth.monitoring import reviews
from agentauth.monitoring import tasks as monitoring_tasks

from . import services, tasks
from .models import ApprovalRequest
from .signals import approval_changed


@receiver(grant_revoked)
def cancel_when_consent_is_withdrawn(sender, user, agent, **kwargs):
    services.cancel_pending(agent=agent, user=user, reason="You withdrew this agent's access.")


@receiver(grant_narrowed)
def cancel_when_a_scope_is_removed(sender, grant, removed, **kwargs):
    services.cancel_pending(agent=grant.agent, user=grant.user, scopes=removed, reason="That permission was removed.")


@receiver(agent_disabled)
def cancel_when_the_agent_is_switched_off(sender, agent, **kwargs):
    services.cancel_pending(agent=agent, reason=f"The agent was {agent.status}.")


@receiver(approval_changed)
def run_what_was_approved(sender, approval, **kwargs):
    # A CIBA approval runs nothing here: its token is consumed at the API that receives it.
    if approval.status == ApprovalRequest.Status.APPROVED and approval.source != "ciba":
        enqueue(tasks.execute_approval, approval.pk)


@receiver(approval_changed)
def check_a_denial(sender, approval, **kwargs):
    if approval.status == ApprovalRequest.Status.DENIED:
        enqueue(monitoring_tasks.check_denials, approval.agent_id, approval.user_id)


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


@receiver(approval_changed)
def count_it(sender, approval, **kwargs):
    metrics.APPROVALS.labels(status=approval.status).inc()
    decided_by_person = approval.status in ("approved", "denied") and not approval.automatic
    if decided_by_person and approval.decided_at:
        metrics.DECISION_SECONDS.observe((approval.decided_at - approval.created_at).total_seconds())


@metrics.gauge
def open_approvals():
    """Approvals still waiting: for their person, or (approved) for a worker."""
    waiting = dict.fromkeys(["pending", "approved"], 0)
    rows = ApprovalRequest.objects.filter(status__in=list(waiting)).values_list("status").annotate(Count("pk"))
    waiting.update(dict(rows))
    return [("agentauth_approvals_open", "Approvals waiting for a person or a worker", "status", waiting)]
