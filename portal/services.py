"""Portal use cases: connect an agent, cut one off, sign out everywhere, write a consent receipt."""

import uuid

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from agentauth.consent import grants
from agentauth.consent.models import Grant, GrantChange
from agentauth.identity import lifecycle, scopes
from agentauth.identity.models import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, REFRESH_TOKEN, Agent
from agentauth.oauth.registration import register_agent

from . import signals


def visible_agents(user):
    """Agents this person may look at: the ones they own and the ones they ever granted."""
    return Agent.objects.filter(Q(user=user) | Q(grants__user=user)).distinct()


def agent_for(user, client_id):
    """The agent, if this person owns it or ever granted it anything; 404 otherwise (no oracle)."""
    agent = visible_agents(user).filter(client_id=client_id).first()
    if agent is None:
        raise Http404("No such agent.")
    return agent


def connect_agent(user, *, name, headless, redirect_uris, scope_names, description=""):
    """Register the person's own agent and grant it `scope_names`; returns (agent, secret shown once)."""
    grant_types = [CLIENT_CREDENTIALS, DEVICE_CODE, REFRESH_TOKEN] if headless else [AUTHORIZATION_CODE, REFRESH_TOKEN]
    return register_agent(
        name=name,
        description=description,
        owner=user,
        grant_types=grant_types,
        redirect_uris=redirect_uris,
        registered_via=Agent.RegisteredVia.PORTAL,
        grant_scopes=scope_names,
    )


@transaction.atomic
def kill_switch(user, agent):
    """Cut the agent off from this person at once; an agent the person owns is revoked for good."""
    grants.revoke_grant(user, agent, via=GrantChange.Via.PORTAL)
    if agent.user_id == user.pk and agent.status != Agent.Status.REVOKED:
        lifecycle.revoke_agent(agent)


def sign_out_everywhere(user, keep=None):
    """End every browser session of the person except `keep` (the session key in use)."""
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        key = session.session_key
        if key != keep and session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended.append(key)
    signals.sessions_ended.send(Session, user=user, session_keys=ended)
    return len(ended)


def consent_receipt(user):
    """The person's consent history as a JSON consent receipt (after the Kantara receipt fields)."""
    now = timezone.now()
    active = Grant.objects.active().filter(user=user).select_related("agent").order_by("agent__name")
    changes = GrantChange.objects.filter(grant__user=user).select_related("grant__agent").order_by("at", "id")
    return {
        "version": "agentauth-consent-receipt/1",
        "receipt_id": str(uuid.uuid4()),
        "issued_at": now.isoformat(),
        "issuer": settings.AGENTAUTH_ISSUER,
        "subject": {"id": str(user.pk), "username": user.get_username()},
        "current_consents": [
            {
                "agent": {"client_id": grant.agent.client_id, "name": grant.agent.name, "status": grant.agent.status},
                "scopes": [
                    {"scope": scope.name, "purpose": scope.description, "risk": scope.risk}
                    for scope in scopes.describe(grant.scopes)
                ],
                "granted_at": grant.granted_at.isoformat(),
                "changed_at": grant.changed_at.isoformat(),
            }
            for grant in active
        ],
        "history": [
            {
                "at": change.at.isoformat(),
                "agent": change.grant.agent.client_id,
                "change": change.summary,
                "before": change.before,
                "after": change.after,
                "added": change.added,
                "removed": change.removed,
                "via": change.via,
            }
            for change in changes
        ],
    }
