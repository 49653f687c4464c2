"""Register agents and rotate their secrets; used by the portal, the RFC 7591 API and commands."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agentauth.audit import trail
from agentauth.consent import grants
from agentauth.consent.models import GrantChange
from agentauth.identity.models import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, GRANT_TYPES, Agent, Scope
from agentauth.lib import outbound
from agentauth.lib.text import clean_text

from . import client_keys

MAX_NAME_LENGTH = 100


def new_client_secret():
    """256 bits from the operating system's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


@transaction.atomic
def register_agent(
    *,
    name,
    grant_types,
    redirect_uris=(),
    owner=None,
    kind=Agent.Kind.BYO,
    registered_via=Agent.RegisteredVia.ADMIN,
    confidential=True,
    allowed_scopes=(),
    grant_scopes=(),
    description="",
    developer="",
    homepage_uri="",
    logo_uri="",
    jwks=None,
    jwks_uri="",
):
    """Create an agent; returns (agent, plaintext secret or None). The secret is never stored in clear.

    An agent registered with public keys (`jwks`, or a `jwks_uri`) authenticates with
    private_key_jwt and gets no secret at all."""
    grant_types = list(dict.fromkeys(grant_types))
    if not grant_types or not set(grant_types) <= set(GRANT_TYPES):
        raise ValidationError({"grant_types": f"Choose from: {', '.join(GRANT_TYPES)}."})
    if CLIENT_CREDENTIALS in grant_types and not confidential:
        raise ValidationError({"grant_types": "client_credentials needs a confidential agent with a secret."})
    name = clean_text(name, MAX_NAME_LENGTH)
    if not name:
        raise ValidationError({"name": "Give the agent a name."})
    if jwks is not None:
        try:
            jwks = client_keys.public_key_set(jwks)
        except client_keys.InvalidKeys as error:
            raise ValidationError({"jwks": str(error)}) from None
    if jwks_uri and not outbound.allowed(jwks_uri):
        raise ValidationError({"jwks_uri": "Use an https URL this server may fetch."})
    keyed = bool(jwks or jwks_uri)
    if keyed and not confidential:
        raise ValidationError({"jwks": "Keys authenticate a confidential agent."})
    secret = new_client_secret() if confidential and not keyed else None
    # A public agent gets a secret nobody ever sees, so an empty secret can never authenticate it.
    agent = Agent(
        name=name,
        user=owner,
        kind=kind,
        registered_via=registered_via,
        client_type=Agent.CLIENT_CONFIDENTIAL if confidential else Agent.CLIENT_PUBLIC,
        # DOT keeps one grant type per application; ours live in grant_types.
        authorization_grant_type=_dot_grant_type(grant_types),
        grant_types=grant_types,
        redirect_uris=" ".join(redirect_uris),
        client_secret=secret or new_client_secret(),
        description=clean_text(description, 2000),
        developer=clean_text(developer, 200),
        homepage_uri=homepage_uri,
        logo_uri=logo_uri,
        secret_rotated_at=timezone.now() if secret else None,
        jwks=jwks or {},
        jwks_uri=jwks_uri,
    )
    agent.full_clean(exclude=["client_secret", "client_id"])
    agent.save()
    trail.record(
        "agent.registered",
        actor_type="person" if owner is not None else "system",
        actor=owner.get_username() if owner is not None else "",
        subject=owner,
        agent=agent,
        details={"via": registered_via, "grant_types": grant_types, "kind": kind},
    )
    if allowed_scopes:
        agent.allowed_scopes.set(Scope.objects.filter(name__in=allowed_scopes))
    if owner is not None and grant_scopes:
        via = registered_via if registered_via in GrantChange.Via.values else GrantChange.Via.SYSTEM
        grants.grant(owner, agent, grant_scopes, via=via)
    return agent, secret


def _dot_grant_type(grant_types):
    if AUTHORIZATION_CODE in grant_types:
        return Agent.GRANT_AUTHORIZATION_CODE
    if DEVICE_CODE in grant_types:
        return Agent.GRANT_DEVICE_CODE
    return Agent.GRANT_CLIENT_CREDENTIALS


@transaction.atomic
def rotate_secret(agent):
    """Issue a new secret; the old one stops working at once. Returns the plaintext once."""
    secret = new_client_secret()
    agent.client_secret = secret
    agent.secret_rotated_at = timezone.now()
    agent.save(update_fields=["client_secret", "secret_rotated_at", "updated"])
    trail.record("agent.secret_rotated", agent=agent, subject=agent.user)
    return secret
