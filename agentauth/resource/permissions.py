"""Scope permissions for resource APIs; each call is announced (api_called) for monitoring."""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from agentauth.identity.tokens import AccessClaims

from .errors import InsufficientScope
from .signals import announce_call


def required_scopes(request, view):
    """The scopes a view names in `required_scopes` (a list, or a dict by HTTP method)."""
    required = getattr(view, "required_scopes", None)
    return required.get(request.method) if isinstance(required, dict) else required


class HasScopes(BasePermission):
    """Require the scopes a view names in `required_scopes`."""

    def has_permission(self, request, view):
        claims = request.auth
        if not isinstance(claims, AccessClaims):
            raise exceptions.NotAuthenticated()
        required = required_scopes(request, view)
        if not required:
            # A view that forgot to say what it needs is closed, not open.
            raise InsufficientScope(["(undeclared)"])
        if not claims.has_scopes(required):
            announce_call(request, claims.client_id, claims.subject, "insufficient_scope")
            raise InsufficientScope(required)
        announce_call(request, claims.client_id, claims.subject, "calls", scopes=required)
        return True
