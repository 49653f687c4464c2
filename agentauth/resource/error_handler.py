"""RFC 6750 error bodies and WWW-Authenticate headers for DRF APIs (settings: EXCEPTION_HANDLER).

Kept apart from authentication.py and errors.py because DRF imports the authentication classes
while rest_framework.views is still loading; this module is only imported when the first error is handled.
"""

from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import (
    InsufficientScope,
    InvalidDPoPProof,
    InvalidRequestError,
    InvalidTokenError,
    bearer_challenge,
    dpop_challenge,
    resource_metadata_url,
)


def exception_handler(exc, context):
    """RFC 6750 error bodies and WWW-Authenticate headers for every authentication failure."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "invalid_request")
    description = str(getattr(exc, "detail", "")) or None
    if isinstance(exc, exceptions.NotAuthenticated):
        response.data = {"error": "invalid_token", "error_description": "An access token is required."}
        response["WWW-Authenticate"] = bearer_challenge(resource_metadata=resource_metadata_url())
        response.status_code = status.HTTP_401_UNAUTHORIZED
    elif isinstance(exc, InvalidDPoPProof):
        response.data = {"error": exc.default_code, "error_description": description}
        response["WWW-Authenticate"] = dpop_challenge(error=exc.default_code, error_description=description)
        if exc.nonce:
            response["DPoP-Nonce"] = exc.nonce
    elif isinstance(exc, (InvalidTokenError, InvalidRequestError)):
        response.data = {"error": code, "error_description": description}
        response["WWW-Authenticate"] = bearer_challenge(
            error=code, error_description=description, resource_metadata=resource_metadata_url()
        )
    elif isinstance(exc, InsufficientScope):
        scope = " ".join(exc.required)
        response.data = {"error": "insufficient_scope", "error_description": description, "scope": scope}
        response["WWW-Authenticate"] = bearer_challenge(error="insufficient_scope", scope=scope)
    elif isinstance(exc, exceptions.ValidationError):
        response.data = {"error": "invalid_request", "fields": response.data}
    elif not (isinstance(response.data, dict) and "error" in response.data):
        response.data = {"error": code, "error_description": description}
    return response
