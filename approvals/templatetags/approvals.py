"""Template access to a person's pending approvals (the dashboard lives in consent, below us)."""

from django import template

from agentauth.identity.scopes import catalogue

from ..models import ApprovalRequest
from ..policies import CURRENCIES, policy_for

register = template.Library()


@register.simple_tag
def pending_approvals(user):
    return list(ApprovalRequest.objects.live().for_person(user).select_related("agent").order_by("expires_at"))


@register.inclusion_tag("approvals/_policy_form.html", takes_context=True)
def approval_policy_form(context, agent):
    """The person's own rule for this agent's critical actions, shown on the agent page."""
    user = context["request"].user
    rules = []
    for scope in catalogue.all().values():
        if scope.requires_approval and (agent.scope_names() is None or scope.name in agent.scope_names()):
            rules.append({"scope": scope, "policy": policy_for(user, agent, scope.name)})
    return {"agent": agent, "rules": rules, "csrf_token": context.get("csrf_token"), "currencies": CURRENCIES}
