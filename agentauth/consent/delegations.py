"""Delegation: a person lets one of their agents hand work to another (RFC 8693 token exchange).

The rule names the two agents and the scopes that may pass; the token exchange checks it every
time. Cutting it revokes every token handed on through it, and every token handed on from those.
"""

from django.db import transaction
from django.utils import timezone

from agentauth.audit import trail
from agentauth.identity import scopes as scope_catalogue
from agentauth.identity.models import AccessToken
from agentauth.lib.selects import Param, Select

from .models import Delegation


def active(user, agent, delegate):
    """The person's standing rule that `agent` may hand work to `delegate`, or None."""
    return Delegation.objects.active().filter(user=user, agent=agent, delegate=delegate).first()


@transaction.atomic
def allow(user, agent, delegate, scopes):
    """Let `agent` hand `delegate` tokens for at most `scopes` (a new rule replaces the old one)."""
    if agent.pk == delegate.pk:
        raise ValueError("An agent cannot delegate to itself.")
    names = sorted(set(scopes) & set(scope_catalogue.available_to(delegate)))
    if not names:
        raise ValueError("None of those scopes is one the receiving agent may ask for.")
    previous = Delegation.objects.active().select_for_update().filter(user=user, agent=agent, delegate=delegate)
    for rule in previous:
        cut(rule, why="replaced")
    rule = Delegation.objects.create(user=user, agent=agent, delegate=delegate, scopes=names)
    trail.record(
        "delegation.allowed",
        actor_type="person",
        actor=user.get_username(),
        subject=user,
        agent=agent,
        scope=names,
        details={"delegate": delegate.client_id, "delegation": rule.pk},
    )
    return rule


@transaction.atomic
def cut(rule, why="person"):
    """End the rule and revoke the tokens handed on through it (and those handed on from them).
    `why`: "person" (its page), "replaced" (the person set a new rule), "admin"."""
    locked = Delegation.objects.select_for_update().get(pk=rule.pk)
    if not locked.is_active:
        return locked
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    handed_on = AccessToken.objects.filter(
        user_id=locked.user_id, application_id=locked.delegate_id, parent__application_id=locked.agent_id
    )
    revoked = handed_on.count()
    handed_on.delete()  # cascades down the chain; every deleted token's jti is denylisted
    by_person = why in ("person", "replaced")
    trail.record(
        "delegation.cut",
        actor_type="person" if by_person else "admin" if why == "admin" else "system",
        actor=locked.user.get_username() if by_person else "",
        subject=locked.user,
        agent=locked.agent,
        scope=locked.scopes,
        details={"delegate": locked.delegate.client_id, "delegation": locked.pk, "why": why, "tokens": revoked},
    )
    rule.revoked_at = locked.revoked_at
    return locked


def handed_on_by(jti):
    """The agents a token was handed on through, first first (empty for a token of its own);
    what the approval page shows beside the agent that asks."""
    tokens = _BY_JTI.all(jti=jti) if jti else []  # asked for every approval: one compiled SELECT
    link, agents = tokens[0].parent if tokens else None, []  # a token handed on: its chain, row by row
    while link is not None:
        agents.insert(0, link.application)
        link = link.parent
    return agents


_BY_JTI = Select(lambda: AccessToken.objects.filter(jti=Param("jti")).order_by("pk"))


def chains(user, agent):
    """The live tokens handed on to or from `agent` for this person, each with its whole chain of
    agent names (the person's own agent first), for the agent's page."""
    live = AccessToken.objects.filter(user=user, expires__gt=timezone.now(), parent__isnull=False)
    tokens = live.filter(application=agent) | live.filter(parent__application=agent)
    found = []
    for token in tokens.select_related("application").order_by("-created")[:20]:
        chain, link = [token.application], token.parent
        while link is not None:
            chain.insert(0, link.application)
            link = link.parent
        found.append({"token": token, "chain": chain})
    return found
