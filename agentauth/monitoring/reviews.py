"""Scheduled audits: stale or over-broad grants, old secrets and keys, and whatever the apps above
add (approvals registers "pending too long"). A person sees their findings; admins see everyone's."""

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from agentauth.audit import trail
from agentauth.consent.models import Grant
from agentauth.identity.models import Agent, SigningKey

from .models import ScopeUse

_providers = []


@dataclass
class Finding:
    kind: str
    severity: str
    summary: str
    user: str = ""
    client_id: str = ""
    scopes: list = field(default_factory=list)

    def as_dict(self):
        return asdict(self)


def register(provider):
    """provider(user or None) -> iterable of Finding; None means every person (the admin report)."""
    _providers.append(provider)
    return provider


def _days(name):
    return timezone.now() - timedelta(days=getattr(settings, name))


@register
def stale_grants(user):
    cutoff = _days("AGENTAUTH_REVIEW_UNUSED_DAYS")
    grants = Grant.objects.active().select_related("agent", "user").filter(granted_at__lt=cutoff)
    if user is not None:
        grants = grants.filter(user=user)
    used = {
        (use.user_id, use.agent_id, use.scope): use.last_used_at
        for use in ScopeUse.objects.filter(agent_id__in=grants.values("agent_id"))
    }
    for grant in grants:
        last = max([at for (u, a, _), at in used.items() if u == grant.user_id and a == grant.agent_id], default=None)
        if last is None or last < cutoff:
            yield Finding(
                "grant_unused",
                "medium",
                f"{grant.agent.name} has not used its access for {settings.AGENTAUTH_REVIEW_UNUSED_DAYS} days",
                grant.user.get_username(),
                grant.agent.client_id,
                list(grant.scopes),
            )
            continue
        never = [scope for scope in grant.scopes if (grant.user_id, grant.agent_id, scope) not in used]
        if never:
            yield Finding(
                "scope_unused",
                "low",
                f"{grant.agent.name} never used: {', '.join(never)}",
                grant.user.get_username(),
                grant.agent.client_id,
                never,
            )


@register
def old_secrets(user):
    agents = Agent.objects.filter(
        client_type=Agent.CLIENT_CONFIDENTIAL,
        status=Agent.Status.ACTIVE,
        secret_rotated_at__lt=_days("AGENTAUTH_REVIEW_SECRET_DAYS"),
    )
    if user is not None:
        agents = agents.filter(user=user)
    for agent in agents.select_related("user"):
        yield Finding(
            "secret_old",
            "medium",
            f"{agent.name}'s secret is older than {settings.AGENTAUTH_REVIEW_SECRET_DAYS} days: rotate it",
            agent.user.get_username() if agent.user else "",
            agent.client_id,
        )


@register
def old_signing_key(user):
    if user is not None:
        return
    current = SigningKey.objects.filter(retired_at__isnull=True).first()
    if current is not None and current.created_at < _days("AGENTAUTH_REVIEW_KEY_DAYS"):
        yield Finding(
            "signing_key_old",
            "medium",
            f"The signing key {current.kid[:12]}… is older than {settings.AGENTAUTH_REVIEW_KEY_DAYS} days: "
            "run `manage.py rotate_signing_key`",
        )


def findings(user=None):
    return [finding for provider in _providers for finding in provider(user)]


def run():
    """The beat task: one audit record summarising today's findings."""
    found = findings()
    counts = {}
    for finding in found:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    trail.record("review.completed", details={"findings": counts})
    return len(found)
