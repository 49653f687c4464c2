"""An agent's life: suspend, resume or revoke it, and cut off the tokens it holds.

Each change runs in one transaction; tokens it ends go on the revocation list, which every API
checks after the signature, so they stop working within a second.
"""

from django.db import transaction
from django.utils import timezone

from agentauth.audit import trail

from . import revocation, signals
from .models import AccessToken, Agent, RefreshToken


def revoke_tokens(*, agent, user=None, carrying=None):
    """Revoke `agent`'s tokens (for `user`); with `carrying`, only access tokens holding those scopes."""
    access_tokens = AccessToken.objects.filter(application=agent)
    refresh_tokens = RefreshToken.objects.filter(application=agent, revoked__isnull=True)
    if user is not None:
        access_tokens = access_tokens.filter(user=user)
        refresh_tokens = refresh_tokens.filter(user=user)
    if carrying:
        # Narrowing: the wider JWTs die now. Refresh tokens live on, because a refresh never
        # yields more than the grant holds today (agentauth.oauth.validator.AgentValidator.get_original_scopes).
        for token in access_tokens.exclude(expires__lte=timezone.now()):
            if token.jti and set(token.scope.split()) & set(carrying):
                revocation.add(revocation.jti_key(token.jti), token.expires)
                token.handed_on.all().delete()  # what was handed on from it dies with it
        return
    refresh_tokens.update(revoked=timezone.now(), access_token=None)
    # Deleting access tokens puts their jti on the revocation list (receivers.py).
    access_tokens.delete()


@transaction.atomic
def revoke_person_tokens(user):
    """Sign the person's agents out everywhere: every token acting for them dies; consent stays."""
    trail.record("token.revoked_all", subject=user, details={"why": "password changed or account disabled"})
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
    trail.record(event, agent=locked, subject=locked.user)
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
