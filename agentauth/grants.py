"""Consent and its consequences: grant, narrow and revoke scopes; suspend, resume and revoke agents.

Every function here changes who may do what, so each runs in one transaction and cuts off the
tokens it makes too wide: their ids go on the revocation list, which every API checks.
"""

import contextlib

from django.db import transaction
from django.utils import timezone

from . import audit, revocation, scopes, signals
from .models import AccessToken, Agent, Grant, GrantChange, RefreshToken


def effective_scopes(user, agent, requested, grant=None):
    """requested ∩ granted by the person ∩ allowed for the agent ∩ what the person may do.

    Pass the standing `grant` when the caller already has it, to save the query."""
    grant = grant or standing_grant(user, agent)
    if grant is None:
        return []
    allowed = set(scopes.available_to(agent)) & set(grant.scopes) & set(requested)
    return sorted(scopes.grantable_by(user, allowed))


def standing_grant(user, agent, *, lock=False):
    """The person's active grant to the agent; `lock` holds it until the transaction ends."""
    grants = Grant.objects.active().filter(user=user, agent=agent)
    # One grant per person and agent (a unique constraint): get() needs no ORDER BY, first() does.
    with contextlib.suppress(Grant.DoesNotExist):
        return (grants.select_for_update() if lock else grants).get()
    return None


def _record(grant, before, via):
    after = sorted(grant.scopes) if grant.is_active else []
    if sorted(before) == after:
        return
    change = GrantChange.objects.create(grant=grant, before=sorted(before), after=after, via=via)
    admin = via == GrantChange.Via.ADMIN
    audit.record(
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
        revoke_tokens(user=user, agent=agent, carrying=removed)
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
    revoke_tokens(user=user, agent=agent)
    if existing is not None:
        signals.grant_revoked.send(Grant, user=user, agent=agent)
    return existing is not None


def revoke_tokens(*, agent, user=None, carrying=None):
    """Revoke `agent`'s tokens (for `user`); with `carrying`, only access tokens holding those scopes."""
    access_tokens = AccessToken.objects.filter(application=agent)
    refresh_tokens = RefreshToken.objects.filter(application=agent, revoked__isnull=True)
    if user is not None:
        access_tokens = access_tokens.filter(user=user)
        refresh_tokens = refresh_tokens.filter(user=user)
    if carrying:
        # Narrowing: the wider JWTs die now. Refresh tokens live on, because a refresh never
        # yields more than the grant holds today (oauth.AgentValidator.get_original_scopes).
        for token in access_tokens.exclude(expires__lte=timezone.now()):
            if token.jti and set(token.scope.split()) & set(carrying):
                revocation.add(revocation.jti_key(token.jti), token.expires)
        return
    refresh_tokens.update(revoked=timezone.now(), access_token=None)
    # Deleting access tokens puts their jti on the revocation list (receivers.py).
    access_tokens.delete()


@transaction.atomic
def revoke_person_tokens(user):
    """Sign the person's agents out everywhere: every token acting for them dies; consent stays."""
    audit.record("token.revoked_all", subject=user, details={"why": "password changed or account disabled"})
    RefreshToken.objects.filter(user=user, revoked__isnull=True).update(revoked=timezone.now(), access_token=None)
    AccessToken.objects.filter(user=user).delete()


@transaction.atomic
def set_status(agent, status):
    """Suspend, resume or revoke an agent. Suspended and revoked agents get no token and no API call."""
    locked = Agent.objects.select_for_update().get(pk=agent.pk)
    if locked.status == status:
        return locked
    if locked.status == Agent.Status.REVOKED:
        raise ValueError("A revoked agent cannot come back; register it again.")
    locked.status = status
    locked.save(update_fields=["status", "updated"])
    event = {Agent.Status.ACTIVE: "agent.resumed", Agent.Status.SUSPENDED: "agent.suspended"}.get(
        status, "agent.revoked"
    )
    audit.record(event, agent=locked, subject=locked.user)
    key = revocation.agent_key(locked.client_id)
    if status == Agent.Status.ACTIVE:
        revocation.remove(key)
    else:
        # The agent key blocks tokens minted in a race with this change; the jti entries keep
        # today's tokens dead after a resume.
        revocation.add(key)
        revoke_tokens(agent=locked)
        signals.agent_disabled.send(Agent, agent=locked)
    agent.status = locked.status
    return locked


def suspend(agent):
    return set_status(agent, Agent.Status.SUSPENDED)


def resume(agent):
    return set_status(agent, Agent.Status.ACTIVE)


def revoke_agent(agent):
    return set_status(agent, Agent.Status.REVOKED)
