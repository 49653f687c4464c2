"""Bearer JWT authentication for resource APIs: offline verification, no database query.

The signature is checked against the cached JWKS, then the revocation list; errors follow
RFC 6750 §3 and point to the RFC 9728 metadata.
"""

from functools import cached_property

from django.contrib.auth import get_user_model
from rest_framework.authentication import BaseAuthentication

from agentauth.identity.models import Agent
from agentauth.identity.revocation import RevocationUnavailable
from agentauth.identity.tokens import AccessClaims, InvalidToken, RevokedToken, verify_access_token
from agentauth.lib.http import credentials

from .errors import (
    InvalidRequestError,
    InvalidTokenError,
    TemporarilyUnavailable,
    bearer_challenge,
    resource_metadata_url,
)
from .signals import announce_call


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


class JWTAuthentication(BaseAuthentication):
    """Bearer JWT access tokens (RFC 6750 header transport only, RFC 9068 validation)."""

    audience = None  # defaults to AGENTAUTH_API_AUDIENCE

    def authenticate(self, request):
        if "access_token" in request.query_params:
            raise InvalidRequestError("Send the access token in the Authorization header, not the URL.")
        raw = credentials(request, "bearer")
        if raw is None:
            return None
        if not raw:
            raise InvalidTokenError("Expected 'Authorization: Bearer <token>'.")
        try:
            claims = verify_access_token(raw, audience=self.audience)
        except RevokedToken as revoked:
            announce_call(request, revoked.claims["client_id"], revoked.claims["sub"], "refused")
            raise InvalidTokenError("The access token is invalid, expired or revoked.") from None
        except InvalidToken:
            raise InvalidTokenError("The access token is invalid, expired or revoked.") from None
        except RevocationUnavailable:
            raise TemporarilyUnavailable() from None
        return Principal(claims), claims

    def authenticate_header(self, request):
        return bearer_challenge(resource_metadata=resource_metadata_url())
