"""Consent and its consequences: grant, narrow and revoke the scopes a person lets an agent use.

Every function here changes who may do what, so each runs in one transaction and cuts off the
tokens it makes too wide (identity.lifecycle puts their ids on the revocation list).
"""

from django.db import transaction
from django.utils import timezone

from agentauth.audit import trail
from agentauth.identity import lifecycle, scopes
from agentauth.lib.selects import Param, Select

from . import signals
from .models import Grant, GrantChange


def effective_scopes(user, agent, requested, grant=None):
    """requested ∩ granted by the person ∩ allowed for the agent ∩ what the person may do.

    Pass the standing `grant` when the caller already has it, to save the query."""
    grant = grant or standing_grant(user, agent)
    if grant is None:
        return []
    allowed = set(scopes.available_to(agent)) & set(grant.scopes) & set(requested)
    return sorted(scopes.grantable_by(user, allowed))


def standing_grant(user, agent, *, lock=False):
    """The person's active grant to the agent; `lock` holds it until the transaction ends.
    Every token request reads it, so its SELECT is compiled once (lib.selects)."""
    return (_LOCKED_GRANT if lock else _GRANT).one(user=user.pk, agent=agent.pk)


# One grant per person and agent (a unique constraint), so at most one row.
_GRANT = Select(lambda: Grant.objects.active().filter(user_id=Param("user"), agent_id=Param("agent")))
_LOCKED_GRANT = Select(lambda: _GRANT.queryset().select_for_update())


def _record(grant, before, via):
    after = sorted(grant.scopes) if grant.is_active else []
    if sorted(before) == after:
        return
    change = GrantChange.objects.create(grant=grant, before=sorted(before), after=after, via=via)
    admin = via == GrantChange.Via.ADMIN
    trail.record(
        f"consent.{change.summary}",
        actor_type="admin" if admin else "person" if via in PERSON_VIAS else "system",
        actor="" if admin else grant.user.get_username(),
        subject=grant.user,
        agent=grant.agent,
        scope=after,
        details={"added": change.added, "removed": change.removed, "via": via},
    )


PERSON_VIAS = {GrantChange.Via.CONSENT, GrantChange.Via.DEVICE, GrantChange.Via.PORTAL}


@transaction.atomic
def grant(user, agent, names, via=GrantChange.Via.SYSTEM):
    """Record that `user` lets `agent` use `names` (added to what it already holds)."""
    names = scopes.grantable_by(user, set(names) & set(scopes.available_to(agent)))
    now = timezone.now()
    existing, _ = Grant.objects.select_for_update().get_or_create(
        user=user, agent=agent, defaults={"scopes": [], "granted_at": now, "changed_at": now}
    )
    before = existing.scopes if existing.is_active else []
    if not existing.is_active:
        existing.granted_at, existing.revoked_at = now, None
    existing.scopes = sorted(set(before) | set(names))
    existing.changed_at = now
    existing.save()
    _record(existing, before, via)
    return existing


def recognise(user, agent, via=GrantChange.Via.BACKCHANNEL):
    """An agent got a token for this person without a standing grant (CIBA): give it an empty one.
    It holds nothing, but puts the agent on the person's dashboard with the controls every agent
    has there (see its tokens, withdraw everything, which also cancels what it waits for)."""
    if not Grant.objects.active().filter(user=user, agent=agent).exists():
        grant(user, agent, [], via)


@transaction.atomic
def set_scopes(user, agent, names, via=GrantChange.Via.SYSTEM):
    """Make the grant exactly `names`; anything removed takes effect at once."""
    existing = Grant.objects.select_for_update().filter(user=user, agent=agent, revoked_at__isnull=True).first()
    names = set(scopes.grantable_by(user, set(names) & set(scopes.available_to(agent))))
    if existing is None:
        return grant(user, agent, names, via)
    before = list(existing.scopes)
    removed = set(before) - names
    existing.scopes, existing.changed_at = sorted(names), timezone.now()
    existing.save()
    _record(existing, before, via)
    if removed:
        lifecycle.revoke_tokens(user=user, agent=agent, carrying=removed)
        signals.grant_narrowed.send(Grant, grant=existing, removed=sorted(removed))
    return existing


@transaction.atomic
def revoke_grant(user, agent, via=GrantChange.Via.SYSTEM):
    """Withdraw consent entirely: every token the agent holds for this person dies."""
    existing = Grant.objects.select_for_update().filter(user=user, agent=agent, revoked_at__isnull=True).first()
    if existing is not None:
        before = list(existing.scopes)
        existing.revoked_at = existing.changed_at = timezone.now()
        existing.save()
        _record(existing, before, via)
    lifecycle.revoke_tokens(user=user, agent=agent)
    if existing is not None:
        signals.grant_revoked.send(Grant, user=user, agent=agent)
    return existing is not None
