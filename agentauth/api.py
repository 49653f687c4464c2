"""What any resource API needs to trust AgentAuth tokens: DRF authentication and scope permissions.

Verification is offline (signature against the cached JWKS, then the revocation list), so a valid
request costs no database query. Errors follow RFC 6750 §3 and point to the RFC 9728 metadata.
"""

from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from . import monitoring, ratelimit
from .models import Agent
from .revocation import RevocationUnavailable
from .tokens import AccessClaims, InvalidToken, RevokedToken, verify_access_token


class Principal:
    """The person a token acts for, as seen by an API: no database row until one is asked for."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, claims: AccessClaims):
        self.claims = claims

    @property
    def pk(self):
        return int(self.claims.subject) if self.claims.subject.isdigit() else None

    id = pk

    @property
    def client_id(self):
        return self.claims.client_id

    @property
    def scopes(self):
        return self.claims.scopes

    @cached_property
    def person(self):
        return get_user_model().objects.get(pk=self.pk)

    @cached_property
    def agent(self):
        return Agent.objects.get(client_id=self.client_id)

    def __str__(self):
        return f"person {self.claims.subject} via agent {self.claims.client_id}"


class InvalidTokenError(exceptions.AuthenticationFailed):
    default_code = "invalid_token"


class InvalidRequestError(exceptions.AuthenticationFailed):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_request"


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, required):
        self.required = sorted(required)
        super().__init__(f"This call needs the scope {' '.join(self.required)}.")


class TemporarilyUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "temporarily_unavailable"
    default_detail = "Token revocation status cannot be checked right now; try again shortly."


def resource_metadata_url():
    return f"{settings.AGENTAUTH_ISSUER}/.well-known/oauth-protected-resource"


def bearer_challenge(**params):
    """A WWW-Authenticate value (RFC 6750 §3), parameters in the order given."""
    return ", ".join(['Bearer realm="agentauth"', *(f'{name}="{value}"' for name, value in params.items())])


class JWTAuthentication(BaseAuthentication):
    """Bearer JWT access tokens (RFC 6750 header transport only, RFC 9068 validation)."""

    audience = None  # defaults to AGENTAUTH_API_AUDIENCE

    def authenticate(self, request):
        if "access_token" in request.query_params:
            raise InvalidRequestError("Send the access token in the Authorization header, not the URL.")
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise InvalidTokenError("Expected 'Authorization: Bearer <token>'.")
        try:
            claims = verify_access_token(raw.strip(), audience=self.audience)
        except RevokedToken as revoked:
            _note(request, revoked.claims["client_id"], revoked.claims["sub"], "refused")
            raise InvalidTokenError("The access token is invalid, expired or revoked.") from None
        except InvalidToken:
            raise InvalidTokenError("The access token is invalid, expired or revoked.") from None
        except RevocationUnavailable:
            raise TemporarilyUnavailable() from None
        return Principal(claims), claims

    def authenticate_header(self, request):
        return bearer_challenge(resource_metadata=resource_metadata_url())


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
            _note(request, claims.client_id, claims.subject, "insufficient_scope")
            raise InsufficientScope(required)
        _within_limits(claims, required)
        _note(request, claims.client_id, claims.subject, "calls", scopes=required)
        return True


def _note(request, client_id, subject, outcome, scopes=()):
    monitoring.note_call(
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
