"""Approvals as the paths that run once per approval read them (a decision, a notification, the
worker that runs it): by SELECTs compiled once (lib.selects), then their agent and person by
identity.lookups; three plain reads cost less CPU than one select_related join."""

from agentauth.identity import lookups as identity
from agentauth.lib.selects import Param, Select

from .models import ApprovalRequest

approval = Select(lambda: ApprovalRequest.objects.filter(pk=Param("pk")))
by_idempotency_key = Select(  # at most one: a unique constraint
    lambda: ApprovalRequest.objects.filter(agent_id=Param("agent"), user_id=Param("user"), idempotency_key=Param("key"))
)
persons_approval = Select(lambda: ApprovalRequest.objects.filter(pk=Param("pk"), user_id=Param("user")))
# Only the approval row is locked (no join): locking its person and agent rows too made other
# transactions' commit-time foreign-key checks wait on us while we waited on the audit chain's
# head, a deadlock the load test found.
locked_approval = Select(lambda: ApprovalRequest.objects.select_for_update().filter(pk=Param("pk")))


def with_people(found, user=None):
    """`found` with its agent and its person (`user`, when the caller has them already)."""
    found.agent = identity.agent.get(pk=found.agent_id)
    found.user = user or identity.person.get(pk=found.user_id)
    return found
