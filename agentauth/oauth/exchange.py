"""RFC 8693 token exchange at the token endpoint: delegation from one agent to another.

An agent exchanges an access token it holds (the subject token) for either
- a narrower token for itself (`scope`, `resource`), or
- a token for another agent (`audience` = that agent's client_id), when the person has allowed
  the hand-over (consent.delegations). The new token acts for the same person, names the
  delegating agent in `act` (nested for chains, RFC 8693 §4.1), and is never wider than the
  subject token in scope, audience or lifetime.
Revoking the subject token, cutting the rule or suspending any agent in the chain ends it.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import JsonResponse
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from agentauth.consent import delegations
from agentauth.identity import dpop, scopes, tokens
from agentauth.identity.models import TOKEN_EXCHANGE, AccessToken, Agent, ResourceServer
from agentauth.identity.revocation import RevocationUnavailable

from .binding import token_client
from .protocol import oauth_error, register_grant

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SUBJECT_TOKEN_TYPES = {ACCESS_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:jwt"}


class Refused(Exception):
    """An exchange refused with an RFC 6749 §5.2 / RFC 8693 §2.2.2 error."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error, self.description = error, description


def token_grant(request):
    """grant_type=urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693 §2)."""
    agent, refused = token_client(request)
    if refused is not None:
        return refused
    try:
        return JsonResponse(_exchange(request, agent))
    except Refused as refusal:
        return oauth_error(refusal.error, refusal.description)
    except OAuth2Error as error:  # invalid_target from the resource check
        return oauth_error(error.error, error.description)
    except RevocationUnavailable:
        return oauth_error("temporarily_unavailable", status=503)


def _exchange(request, agent):
    form = request.POST
    if form.get("subject_token_type") not in SUBJECT_TOKEN_TYPES:
        raise Refused("invalid_request", "subject_token_type must be an access token type.")
    if form.get("requested_token_type", ACCESS_TOKEN_TYPE) != ACCESS_TOKEN_TYPE:
        raise Refused("invalid_request", "Only access tokens are issued.")
    if "actor_token" in form:
        raise Refused("invalid_request", "The authenticated agent is the actor; actor_token is not accepted.")
    subject = _subject(form.get("subject_token", ""), agent)
    target = _target(form.get("audience"), agent)
    handing_on = target.pk != agent.pk
    if handing_on and (dpop.bound_key() or "cnf" in subject.raw):
        raise Refused("invalid_request", "A token for another agent cannot be bound to this agent's key.")
    person = subject.subject.isdigit() and get_user_model().objects.filter(pk=subject.subject, is_active=True).first()
    if not person:
        raise Refused("invalid_grant", "The person this token acts for cannot be acted for.")
    rule = delegations.active(person, agent, target) if handing_on else None
    if handing_on and rule is None:
        raise Refused("invalid_target", "This person has not let this agent hand work to that one.")
    granted = _scopes(form.get("scope"), subject, target, person, rule)
    actors = [agent.client_id, *tokens.actors(subject.raw)]  # who has handed it on, nearest first
    if len(actors) >= tokens.MAX_CHAIN:
        raise Refused("invalid_request", "The delegation chain is too long.")
    return _issue(request, subject, target, person, granted, actors if handing_on else actors[1:], rule)


def _subject(raw, agent):
    """The verified subject token, which must be this agent's own (an agent exchanges what it
    holds, not a token it picked up from another)."""
    try:
        subject = tokens.verify_access_token(raw, audience=_every_resource())
    except tokens.InvalidToken:
        raise Refused("invalid_request", "subject_token is invalid, expired or revoked.") from None
    if subject.client_id != agent.client_id:
        raise Refused("invalid_request", "subject_token was not issued to this agent.")
    if subject.raw.get("cnf") and subject.raw["cnf"].get("jkt") != dpop.bound_key():
        raise Refused("invalid_request", "subject_token is DPoP-bound: prove its key with a DPoP proof.")
    if "authorization_details" in subject.raw:  # redeemed once, by its own jti (CIBA)
        raise Refused("invalid_request", "A token for one approved action cannot be exchanged.")
    return subject


def _every_resource():
    return [settings.AGENTAUTH_API_AUDIENCE, *ResourceServer.objects.values_list("identifier", flat=True)]


def _target(audience, agent):
    if not audience or audience == agent.client_id:
        return agent
    target = Agent.objects.filter(client_id=audience).first()
    if target is None or not target.is_active:
        raise Refused("invalid_target", "audience must name an active agent.")
    return target


def _scopes(requested, subject, target, person, rule):
    """The scopes of the new token: what was asked (else everything the subject token holds that
    may pass), never more than the subject token, the rule, the receiving agent's registration
    and what the person may do."""
    ceiling = set(subject.scopes) & set(scopes.available_to(target))
    if rule is not None:
        ceiling &= set(rule.scopes)
    asked = set(requested.split()) if requested else ceiling
    if not asked <= ceiling:
        raise Refused("invalid_scope", "That is more than the subject token and the delegation allow.")
    granted = sorted(scopes.grantable_by(person, asked))
    if not granted:
        raise Refused("invalid_scope", "Nothing of that may be handed on.")
    return granted


def _issue(request, subject, target, person, granted, actors, rule):
    """Mint the new token for `target`, handed on by `actors` (nearest first)."""
    audience = tokens.audience(request.POST.getlist("resource"), list(subject.audience), None)
    lifetime = min(settings.AGENTAUTH_ACCESS_TOKEN_SECONDS, subject.expires_at - int(time.time()))
    if lifetime < 1:  # accepted within the clock skew, but nothing of it is left to hand on
        raise Refused("invalid_request", "subject_token has expired.")
    raw, claims = tokens.issue(
        user=person,
        agent=target,
        scopes=granted,
        audience=audience,
        extra_claims={"act": _act(actors)} if actors else None,
        lifetime=lifetime,
        grant_type="token-exchange",
        parent=AccessToken.objects.filter(jti=subject.jti).first(),
        details={
            "subject_jti": subject.jti,
            "chain": [*reversed(actors), target.client_id],
            "delegation": rule.pk if rule else None,
        },
    )
    return {
        "access_token": raw,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "DPoP" if "cnf" in claims else "Bearer",
        "expires_in": lifetime,
        "scope": claims["scope"],
    }


def _act(actors):
    """RFC 8693 §4.1: the nearest actor outermost, the ones before it nested inside."""
    act = None
    for client_id in reversed(actors):
        act = {"sub": client_id, **({"act": act} if act else {})}
    return act


register_grant(TOKEN_EXCHANGE, token_grant, metadata=lambda issuer: {})
