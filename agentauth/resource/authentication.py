"""JWT access token authentication for resource APIs: offline verification, no database query.

The signature is checked against the cached JWKS, then the revocation list; errors follow
RFC 6750 §3 and point to the RFC 9728 metadata.
"""

from functools import cached_property

from django.conf import settings
from rest_framework.authentication import BaseAuthentication

from agentauth.identity import dpop, lookups
from agentauth.identity.revocation import RevocationUnavailable
from agentauth.identity.tokens import AccessClaims, InvalidToken, RevokedToken, verify_access_token
from agentauth.lib import logs, metrics

from .errors import (
    InvalidDPoPProof,
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
        return lookups.person.get(pk=self.pk)

    @cached_property
    def agent(self):
        return lookups.agent_by_client_id.get(client_id=self.client_id)

    def __str__(self):
        return f"person {self.claims.subject} via agent {self.claims.client_id}"


REFUSED = "The access token is invalid, expired or revoked."
NOT_BEARER = "Expected 'Authorization: Bearer <token>' or 'Authorization: DPoP <token>'."
BOUND = "This token is bound to a key: send it with the DPoP scheme and a proof."
UNBOUND = "This token is not bound to a key: send it with the Bearer scheme."
CLIENT_MISTAKES = {NOT_BEARER, BOUND, UNBOUND}


def presented_token(request, audience=None):
    """The verified claims of the access token in the Authorization header, or None without one.

    Bearer tokens (RFC 6750) and DPoP-bound ones (RFC 9449 §7: the `DPoP` scheme and a proof
    from the key in the token's `cnf`) are told apart by the token itself: a bound token sent as
    Bearer is refused, or a stolen one would work without the key. Raises InvalidToken,
    RevokedToken, RevocationUnavailable, dpop.ProofError or dpop.ReplayCacheUnavailable."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, raw = header.partition(" ")
    scheme, raw = scheme.lower(), raw.strip()
    if scheme not in ("bearer", "dpop") or not raw:
        raise InvalidToken(NOT_BEARER)
    claims = verify_access_token(raw, audience=audience)
    cnf = claims.raw.get("cnf")
    key = cnf.get("jkt") if isinstance(cnf, dict) else None
    if scheme == "dpop":
        if not key:
            raise InvalidToken(UNBOUND)
        url = request.build_absolute_uri(request.path)
        dpop.verify(request.META.get("HTTP_DPOP"), method=request.method, url=url, access_token=raw, bound_to=key)
    elif key:
        raise InvalidToken(BOUND)
    elif settings.AGENTAUTH_API_REQUIRES_DPOP:
        raise dpop.ProofError("This API accepts DPoP-bound tokens only (RFC 9449).")
    return claims


class JWTAuthentication(BaseAuthentication):
    """JWT access tokens (RFC 9068) in the Authorization header: Bearer, or DPoP with its proof."""

    audience = None  # defaults to AGENTAUTH_API_AUDIENCE

    def authenticate(self, request):
        with metrics.API_AUTH_SECONDS.time():
            return self._authenticate(request)

    def _authenticate(self, request):
        if "access_token" in request.query_params:
            raise InvalidRequestError("Send the access token in the Authorization header, not the URL.")
        try:
            claims = presented_token(request, audience=self.audience)
        except RevokedToken as revoked:
            announce_call(request, revoked.claims["client_id"], revoked.claims["sub"], "refused")
            raise InvalidTokenError("The access token is invalid, expired or revoked.") from None
        except InvalidToken as invalid:
            raise InvalidTokenError(invalid.args[0] if invalid.args[0] in CLIENT_MISTAKES else REFUSED) from None
        except dpop.NonceRequired as refusal:
            raise InvalidDPoPProof(refusal.description, nonce=dpop.new_nonce()) from None
        except dpop.ProofError as refusal:
            raise InvalidDPoPProof(refusal.description) from None
        except (RevocationUnavailable, dpop.ReplayCacheUnavailable):
            raise TemporarilyUnavailable() from None
        if not claims:
            return None
        logs.note(client_id=claims.client_id)
        return Principal(claims), claims

    def authenticate_header(self, request):
        return bearer_challenge(resource_metadata=resource_metadata_url())
