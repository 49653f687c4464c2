"""On an agent's page: which agents it may hand work to (RFC 8693), the chains live right now,
and cutting any of them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from agentauth.consent import delegations
from agentauth.consent.models import Delegation, Grant
from agentauth.identity.models import Agent

from . import services


def context(user, agent):
    """What the agent page shows about hand-overs from and to `agent`."""
    rules = Delegation.objects.active().filter(user=user).select_related("agent", "delegate")
    grant = Grant.objects.active().filter(user=user, agent=agent).first()
    others = services.visible_agents(user).exclude(pk=agent.pk).filter(status=Agent.Status.ACTIVE)
    return {
        "delegations_out": rules.filter(agent=agent),
        "delegations_in": rules.filter(delegate=agent),
        "chains": delegations.chains(user, agent),
        "delegates": others.order_by("name"),
        "delegable_scopes": sorted(grant.scopes) if grant else [],
    }


@login_required
@require_POST
def allow(request, client_id):
    agent = services.agent_for(request.user, client_id)
    delegate = services.visible_agents(request.user).filter(client_id=request.POST.get("delegate", "")).first()
    if delegate is None or not agent.is_active:
        messages.error(request, "Choose one of your active agents.")
        return redirect("portal:agent", client_id=client_id)
    try:
        delegations.allow(request.user, agent, delegate, request.POST.getlist("scope"))
    except ValueError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"{agent.name} may now hand work to {delegate.name}.")
    return redirect("portal:agent", client_id=client_id)


@login_required
@require_POST
def cut(request, client_id, delegation_id):
    agent = services.agent_for(request.user, client_id)
    rule = get_object_or_404(Delegation.objects.filter(user=request.user), pk=delegation_id)
    if agent.pk not in (rule.agent_id, rule.delegate_id):
        return redirect("portal:agent", client_id=client_id)
    delegations.cut(rule)
    messages.success(request, f"Cut: {rule.agent.name} no longer hands work to {rule.delegate.name}.")
    return redirect("portal:agent", client_id=client_id)
