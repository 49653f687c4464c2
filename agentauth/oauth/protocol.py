"""What the endpoints share: error bodies, client authentication, form and rate checks, and the
grant types the apps above add to the token endpoint."""

import base64
from urllib.parse import unquote

from django.core.exceptions import BadRequest
from django.http import JsonResponse
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauthlib.common import Request as OAuthlibRequest

from agentauth.lib import ratelimit
from agentauth.lib.http import credentials


def oauth_error(error, description=None, status=400, headers=None):
    body = {"error": error}
    if description:
        body["error_description"] = description
    response = JsonResponse(body, status=status, headers=headers)
    response["Cache-Control"] = "no-store"
    return response


CLIENT_CHALLENGE = 'Basic realm="agentauth"'


def invalid_client():
    """RFC 6749 §5.2: 401 with a challenge in the scheme clients authenticate with (Basic)."""
    return oauth_error("invalid_client", status=401, headers={"WWW-Authenticate": CLIENT_CHALLENGE})


def challenge_clients(response):
    """Give a 401 from oauthlib (which says `Bearer`) the client authentication challenge."""
    if response.status_code == 401:
        response["WWW-Authenticate"] = CLIENT_CHALLENGE
    return response


# Grant types the apps above add to the token endpoint (approvals adds CIBA): grant_type ->
# handler(request) -> HttpResponse, run inside one transaction; and what each adds to the metadata.
EXTRA_GRANTS = {}
EXTRA_METADATA = {}


def register_grant(grant_type, handler, metadata=None):
    """`metadata(issuer)` returns the RFC 8414 fields the grant adds, e.g. its endpoint."""
    EXTRA_GRANTS[grant_type] = handler
    if metadata is not None:
        EXTRA_METADATA[grant_type] = metadata


def authenticated_agent(request):
    """The agent a request authenticates as (Basic or body credentials), or None."""
    # Not OAuthLibMixin.get_oauthlib_core(): that caches the server on the class it is called on,
    # and every view class inherits the cache (the device view then got the token server).
    core = get_oauthlib_core()
    oauthlib_request = OAuthlibRequest(*core._extract_params(request))
    if not core.server.request_validator.authenticate_client(oauthlib_request):
        return None
    return getattr(oauthlib_request, "client", None)


# RFC 8707 lets `resource` repeat; every other parameter appears at most once (RFC 6749 §3.2).
REPEATABLE_PARAMETERS = {"resource"}


def throttled(*buckets):
    """429 with Retry-After when any bucket is empty, 503 when the limiter cannot answer, else None."""
    return throttled_reading(None, *buckets)[0]


def throttled_reading(version_key, *buckets):
    """`throttled`, and the value of a version key read in the same Redis round trip (or None)."""
    try:
        wait, version = ratelimit.retry_after_reading(version_key, buckets)
    except ratelimit.RateLimitUnavailable:
        return oauth_error("temporarily_unavailable", "Try again shortly.", 503, headers={"Retry-After": "2"}), None
    if wait is not None:
        return oauth_error("slow_down", "Too many requests.", 429, headers={"Retry-After": str(wait)}), None
    return None, version


def form_problem(request):
    """Why a POST to an OAuth endpoint is not a well-formed form, or None."""
    if request.content_type != "application/x-www-form-urlencoded":
        return "Use application/x-www-form-urlencoded (RFC 6749 §3.2)."
    if request.content_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return "Use UTF-8."
    try:
        repeated = [name for name, values in request.POST.lists() if len(values) > 1]
    except (BadRequest, UnicodeDecodeError, ValueError):
        return "The body could not be parsed."
    repeated = [name for name in repeated if name not in REPEATABLE_PARAMETERS]
    if repeated:
        return f"Parameters must not repeat: {', '.join(sorted(repeated))}."
    return None


def claimed_client_id(request):
    """The client id a token request names (Basic or body), unverified: for the log only."""
    value = credentials(request, "basic")
    if value:
        try:
            return unquote(base64.b64decode(value, validate=True).decode().split(":", 1)[0])[:255]
        except (ValueError, UnicodeDecodeError):
            return ""
    return request.POST.get("client_id", "")[:255]
