"""The errors a protected API answers (RFC 6750 §3) and the challenge that goes with them."""

from urllib.parse import urlsplit

from django.conf import settings
from rest_framework import exceptions, status


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


class InvalidDPoPProof(exceptions.AuthenticationFailed):
    """RFC 9449 §7.1: the DPoP proof (or its absence) is why the call is refused."""

    default_code = "invalid_dpop_proof"

    def __init__(self, description, nonce=None):
        super().__init__(description)
        self.nonce = nonce  # set when the refusal is use_dpop_nonce: the nonce to use
        if nonce:
            self.default_code = "use_dpop_nonce"


class TemporarilyUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "temporarily_unavailable"
    default_detail = "Token revocation status cannot be checked right now; try again shortly."


WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_url(identifier):
    """RFC 9728 §3.1: the well-known segment inserted between the resource's host and its path."""
    parts = urlsplit(identifier)
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{parts.path.rstrip('/') and parts.path}"


def resource_metadata_url(identifier=None):
    """Where the example API's (or `identifier`'s) metadata document is, for 401 challenges."""
    return metadata_url(identifier or settings.AGENTAUTH_API_AUDIENCE)


def dpop_challenge(**params):
    """The DPoP scheme's challenge (RFC 9449 §7.1), with the algorithms proofs may use."""
    from agentauth.identity.dpop import ALGORITHMS

    values = [*(f'{name}="{value}"' for name, value in params.items()), f'algs="{" ".join(ALGORITHMS)}"']
    return "DPoP " + ", ".join(values)


def bearer_challenge(**params):
    """A WWW-Authenticate value (RFC 6750 §3), parameters in the order given."""
    return ", ".join(['Bearer realm="agentauth"', *(f'{name}="{value}"' for name, value in params.items())])
