"""The authorization server's endpoints: token, revocation, introspection, device authorization, registration."""

import contextlib
import hashlib
import json

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as dot_views
from oauth2_provider.compat import login_not_required
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from agentauth.audit import trail
from agentauth.identity import dpop, known_agents, resources
from agentauth.identity.models import (
    CLIENT_CREDENTIALS,
    GRANT_TYPES,
    RefreshToken,
)
from agentauth.identity.revocation import RevocationUnavailable
from agentauth.identity.tokens import InvalidToken, verify_access_token
from agentauth.lib import inserts, metrics

from .binding import bound_token_type, token_request_key
from .protocol import (
    EXTRA_GRANTS,
    authenticated_agent,
    challenge_clients,
    claimed_client_id,
    form_problem,
    invalid_client,
    oauth_error,
    throttled_reading,
)

# A grant that changes between a token's read and its write this many times in a row is refused (503).
CHANGED_GRANT_RETRIES = 3


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class TokenView(OAuthLibMixin, View):
    """The token endpoint. One transaction per request: a code is consumed if and only if
    tokens were saved, and a refresh token rotates together with its successor. Client
    credentials change nothing but the token they write, in one statement, so they need none."""

    def post(self, request, *args, **kwargs):
        response = self.answer(request)
        outcome = "issued" if response.status_code == 200 else "refused"
        metrics.TOKENS.labels(grant_type=_grant_type_label(request), outcome=outcome).inc()
        return response

    def answer(self, request):
        problem = form_problem(request)
        if problem:
            return oauth_error("invalid_request", problem)
        if request.headers.get("Authorization") and "client_secret" in request.POST:
            return oauth_error("invalid_request", "Use one client authentication method, not two (RFC 6749 §2.3).")
        refused, agents_version = throttled_reading(
            known_agents.VERSION_KEY,
            ("token", f"token:agent:{claimed_client_id(request)}"),
            ("token_ip", f"token:ip:{request.META.get('REMOTE_ADDR', '')}"),
        )
        if refused is not None:
            return refused
        jkt, refused = token_request_key(request)
        if refused is not None:
            return refused
        with dpop.binding(jkt), known_agents.at_version(agents_version):
            response = self.grant(request)
        return bound_token_type(response, jkt)

    def grant(self, request):
        extension = EXTRA_GRANTS.get(request.POST.get("grant_type", ""))
        if extension is not None:
            with transaction.atomic():
                response = extension(request)
            response["Cache-Control"] = "no-store"
            return response
        try:
            answer = self.oauthlib_answer(request)
        except OAuth2Error as error:
            self.record_refusal(request, json.dumps({"error": error.error}))
            return challenge_clients(oauth_error(error.error, error.description, error.status_code))
        if answer is None:
            return oauth_error("temporarily_unavailable", "The consent kept changing.", 503, {"Retry-After": "1"})
        url, headers, body, status = answer
        response = HttpResponse(body, status=status, content_type="application/json")
        for name, value in headers.items():
            response[name] = value
        response["Cache-Control"] = "no-store"
        return challenge_clients(response)

    def oauthlib_answer(self, request):
        """oauthlib's answer, with the refusal audited. Client credentials write one statement
        (the token and its record, while the grant they read is unchanged), so they need no
        transaction, and are asked again when a change to the grant came between (None when it
        kept changing)."""
        single_write = request.POST.get("grant_type") == CLIENT_CREDENTIALS
        for _ in range(CHANGED_GRANT_RETRIES):
            try:
                with contextlib.nullcontext() if single_write else transaction.atomic():
                    url, headers, body, status = self.create_token_response(request)
                    if status != 200:
                        self.record_refusal(request, body)
                    return url, headers, body, status
            except inserts.Changed:
                continue
        return None

    @staticmethod
    def record_refusal(request, body):
        try:
            error = json.loads(body).get("error", "")
        except (ValueError, AttributeError):
            error = ""
        trail.record(
            "token.refused",
            outcome="failure",
            actor_type="agent",
            actor=claimed_client_id(request),
            client_id=claimed_client_id(request),
            scope=request.POST.get("scope", "")[:500],
            details={"grant_type": request.POST.get("grant_type", "")[:80], "error": error},
        )


def _grant_type_label(request):
    """The grant type for a metric label: a known one, or "other" (labels must stay few)."""
    try:
        grant_type = request.POST.get("grant_type", "")
    except Exception:  # the body was refused as malformed already
        return "other"
    return grant_type if grant_type in GRANT_TYPES or grant_type in EXTRA_GRANTS else "other"


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RevokeView(dot_views.RevokeTokenView):
    """RFC 7009. DOT ≥3.4.1 only revokes tokens issued to the calling agent."""

    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            return challenge_clients(super().post(request, *args, **kwargs))


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class IntrospectView(OAuthLibMixin, View):
    """RFC 7662, for registered resource servers only, and each only about tokens for itself: a
    token for another resource is `{"active": false}` (other agents learn nothing at all)."""

    def post(self, request, *args, **kwargs):
        client = authenticated_agent(request)
        if client is None:
            return invalid_client()
        if not client.is_resource_server or not client.is_active:
            return oauth_error("unauthorized_client", "Only registered resource servers may introspect.", 403)
        token = request.POST.get("token", "")
        try:
            body = self._describe(token, _introspects_for(client))
        except RevocationUnavailable:
            return oauth_error("temporarily_unavailable", status=503)
        response = JsonResponse(body)
        response["Cache-Control"] = "no-store"
        return response

    def _describe(self, token, audiences):
        """The RFC 7662 answer about `token`, active only if it is for one of `audiences`."""
        if token.count(".") == 2:
            try:
                claims = verify_access_token(token, audience=audiences).raw
            except InvalidToken:
                return {"active": False}
            return {"active": True, "token_type": "DPoP" if "cnf" in claims else "Bearer", **claims}
        checksum = hashlib.sha256(token.encode()).hexdigest()
        refresh = (
            RefreshToken.objects.select_related("application", "access_token")
            .filter(token_checksum=checksum, revoked__isnull=True)
            .first()
        )
        if refresh is None or not refresh.application.is_active:
            return {"active": False}
        granted = {resources.normalise(uri) for uri in refresh.resource or [settings.AGENTAUTH_API_AUDIENCE]}
        if not granted & {resources.normalise(uri) for uri in audiences}:
            return {"active": False}
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": refresh.application.client_id,
            "sub": str(refresh.user_id),
            "scope": refresh.access_token.scope if refresh.access_token else "",
            "iss": settings.AGENTAUTH_ISSUER,
        }


def _introspects_for(client):
    """The audiences a resource server may introspect tokens for: those of the resource servers
    it is the introspector of, or (linked to none) this server's own API."""
    return [resource.identifier for resource in client.resources.all()] or [settings.AGENTAUTH_API_AUDIENCE]
