"""Which actions need a person: the scope's flag, then the most specific policy that applies."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Q

from agentauth.identity.scopes import catalogue

from .models import ApprovalPolicy

CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "JPY"]


def policy_for(user, agent, scope):
    """The person's policy for this agent, else theirs for any agent, else the operator's."""
    candidates = ApprovalPolicy.objects.filter(scope=scope).filter(
        Q(user=user) | Q(user__isnull=True), Q(agent=agent) | Q(agent__isnull=True)
    )
    ranked = sorted(candidates, key=lambda policy: (policy.user_id is not None, policy.agent_id is not None))
    if ranked:
        return ranked[-1]
    default = settings.APPROVAL_DEFAULT_POLICIES.get(scope)
    if default:
        return ApprovalPolicy(scope=scope, **default)
    return None


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
    return currency != policy.currency or policy.limit is None or value >= policy.limit


def set_person_policy(user, agent, scope, *, mode, limit=None, currency=""):
    """The person's own rule for one agent and scope ("always ask", "approve below 20 EUR")."""
    if mode not in (ApprovalPolicy.Mode.ALWAYS, ApprovalPolicy.Mode.ABOVE):
        raise ValueError("Choose 'always' or 'above'.")
    if mode == ApprovalPolicy.Mode.ABOVE and (limit is None or limit <= 0 or currency not in CURRENCIES):
        raise ValueError("Give a positive limit and a currency.")
    policy, _ = ApprovalPolicy.objects.update_or_create(
        scope=scope,
        user=user,
        agent=agent,
        defaults={
            "mode": mode,
            "limit": limit if mode == "above" else None,
            "currency": currency if mode == "above" else "",
        },
    )
    return policy
