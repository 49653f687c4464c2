"""Scope permissions and rate limits for resource APIs; every call is counted for monitoring."""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from agentauth.identity.tokens import AccessClaims
from agentauth.lib import ratelimit
from agentauth.monitoring import activity

from .errors import InsufficientScope, TemporarilyUnavailable


class HasScopes(BasePermission):
    """Require the scopes a view names in `required_scopes` (a list, or a dict by HTTP method)."""

    def has_permission(self, request, view):
        claims = request.auth
        if not isinstance(claims, AccessClaims):
            raise exceptions.NotAuthenticated()
        required = getattr(view, "required_scopes", None)
        if isinstance(required, dict):
            required = required.get(request.method)
        if not required:
            # A view that forgot to say what it needs is closed, not open.
            raise InsufficientScope(["(undeclared)"])
        if not claims.has_scopes(required):
            note(request, claims.client_id, claims.subject, "insufficient_scope")
            raise InsufficientScope(required)
        _within_limits(claims, required)
        note(request, claims.client_id, claims.subject, "calls", scopes=required)
        return True


def note(request, client_id, subject, outcome, scopes=()):
    activity.note_call(
        client_id,
        subject,
        outcome,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        scopes=scopes,
    )


def _within_limits(claims, required):
    """Token buckets per agent and per person, the tightest rate of the scopes in play."""
    buckets = [("agent", f"api:agent:{claims.client_id}"), ("person", f"api:person:{claims.subject}")]
    try:
        wait = ratelimit.retry_after(buckets, required)
    except ratelimit.RateLimitUnavailable:
        raise TemporarilyUnavailable("Rate limits cannot be checked right now; try again shortly.") from None
    if wait is not None:
        raise exceptions.Throttled(wait=wait)
