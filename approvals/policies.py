"""Which actions need a person: the scope's flag, then the most specific policy that applies,
then its running budget."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from agentauth.identity.scopes import catalogue
from agentauth.lib import locks
from agentauth.lib.selects import Param, Select

from .models import ApprovalPolicy, ApprovalRequest

CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "JPY"]


def policy_for(user, agent, scope):
    """The person's policy for this agent, else theirs for any agent, else the operator's."""
    candidates = _CANDIDATES.all(scope=scope, user=user.pk, agent=agent.pk)
    ranked = sorted(candidates, key=lambda policy: (policy.user_id is not None, policy.agent_id is not None))
    if ranked:
        return ranked[-1]
    default = settings.APPROVAL_DEFAULT_POLICIES.get(scope)
    if default:
        return ApprovalPolicy(scope=scope, **default)
    return None


_CANDIDATES = Select(  # asked on every action an agent sends: compiled once (lib.selects)
    lambda: ApprovalPolicy.objects.filter(
        Q(user_id=Param("user")) | Q(user__isnull=True),
        Q(agent_id=Param("agent")) | Q(agent__isnull=True),
        scope=Param("scope"),
    )
)


def needs_person(user, agent, scope, amount=None, currency=None):
    """True when this action must wait for the person's approval."""
    entry = catalogue.all().get(scope)
    if entry is None or not entry.requires_approval:
        return False
    policy = policy_for(user, agent, scope)
    if policy is None or policy.mode == ApprovalPolicy.Mode.ALWAYS:
        return True
    if policy.mode == ApprovalPolicy.Mode.NEVER:
        return entry.risk == entry.Risk.HIGH  # a high-risk scope is always asked, whatever a policy says
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, TypeError):
        return True
    if currency != policy.currency or policy.limit is None or value >= policy.limit:
        return True
    return policy.budget is not None and _over_budget(user, agent, scope, policy, value)


def _over_budget(user, agent, scope, policy, value):
    """Ten payments of 49 under a 50 limit are still 490: what was approved automatically in the
    window counts, and whatever would pass the budget asks the person.

    Called inside the transaction that records the approval; the lock makes concurrent requests
    of this agent for this person take turns, so each sees the ones before it."""
    locks.hold(f"approval-budget:{user.pk}:{agent.pk}:{scope}")
    spent = (
        ApprovalRequest.objects.filter(
            user=user,
            agent=agent,
            scope=scope,
            automatic=True,
            currency=policy.currency,
            created_at__gte=timezone.now() - timedelta(hours=policy.budget_hours),
        )
        .exclude(status=ApprovalRequest.Status.FAILED)
        .aggregate(total=Sum("amount"))["total"]
    )
    return (spent or 0) + value > policy.budget


def set_person_policy(user, agent, scope, *, mode, limit=None, currency="", budget=None, budget_hours=24):
    """The person's own rule for one agent and scope ("always ask", "approve below 20 EUR, at
    most 100 EUR a day")."""
    if mode not in (ApprovalPolicy.Mode.ALWAYS, ApprovalPolicy.Mode.ABOVE):
        raise ValueError("Choose 'always' or 'above'.")
    above = mode == ApprovalPolicy.Mode.ABOVE
    if above and (limit is None or limit <= 0 or currency not in CURRENCIES):
        raise ValueError("Give a positive limit and a currency.")
    if above and budget is not None and (budget < limit or not 1 <= budget_hours <= 24 * 31):
        raise ValueError("The budget must be at least the limit, over 1 hour to 31 days.")
    policy, _ = ApprovalPolicy.objects.update_or_create(
        scope=scope,
        user=user,
        agent=agent,
        defaults={
            "mode": mode,
            "limit": limit if above else None,
            "currency": currency if above else "",
            "budget": budget if above else None,
            "budget_hours": budget_hours if above else 24,
        },
    )
    return policy
