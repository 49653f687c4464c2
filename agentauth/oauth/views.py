"""The authorization server's endpoints: token, revocation, introspection, device authorization, registration."""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as dot_views
from oauth2_provider.compat import login_not_required
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from agentauth.audit import trail
from agentauth.identity import dpop, resources, scopes
from agentauth.identity.models import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    GRANT_TYPES,
    Agent,
    RefreshToken,
)
from agentauth.identity.revocation import RevocationUnavailable
from agentauth.identity.tokens import InvalidToken, verify_access_token
from agentauth.lib import metrics
from agentauth.lib.http import credentials

from . import registration
from .binding import bound_token_type, token_request_key
from .protocol import (
    EXTRA_GRANTS,
    authenticated_agent,
    challenge_clients,
    claimed_client_id,
    form_problem,
    invalid_client,
    oauth_error,
    throttled,
)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class TokenView(OAuthLibMixin, View):
    """The token endpoint. One transaction per request: a code is consumed if and only if
    tokens were saved, and a refresh token rotates together with its successor."""

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
        refused = throttled(
            ("token", f"token:agent:{claimed_client_id(request)}"),
            ("token_ip", f"token:ip:{request.META.get('REMOTE_ADDR', '')}"),
        )
        if refused is not None:
            return refused
        jkt, refused = token_request_key(request)
        if refused is not None:
            return refused
        with dpop.binding(jkt):
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
            with transaction.atomic():
                url, headers, body, status = self.create_token_response(request)
                if status != 200:
                    self.record_refusal(request, body)
        except OAuth2Error as error:
            self.record_refusal(request, json.dumps({"error": error.error}))
            return challenge_clients(oauth_error(error.error, error.description, error.status_code))
        response = HttpResponse(body, status=status, content_type="application/json")
        for name, value in headers.items():
            response[name] = value
        response["Cache-Control"] = "no-store"
        return challenge_clients(response)

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


AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RegistrationView(View):
    """RFC 7591 dynamic client registration. Open on the embedded default; production needs
    the initial access token. A registered agent has no owner: it acts for nobody until a
    person consents."""

    def post(self, request, *args, **kwargs):
        if not settings.AGENTAUTH_OPEN_REGISTRATION:
            expected = settings.AGENTAUTH_REGISTRATION_TOKEN
            presented = credentials(request, "bearer")
            if not expected or not presented or not constant_time_compare(presented, expected):
                return oauth_error(
                    "invalid_token",
                    "An initial access token is required.",
                    401,
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
        try:
            metadata = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return oauth_error("invalid_client_metadata", "The body must be a JSON object.")
        if not isinstance(metadata, dict):
            return oauth_error("invalid_client_metadata", "The body must be a JSON object.")
        try:
            fields = self._read(metadata)
            method = fields.pop("token_endpoint_auth_method")
            bound = fields.pop("dpop_bound_access_tokens")
            agent, secret = registration.register_agent(registered_via=Agent.RegisteredVia.API, **fields)
            if bound:
                Agent.objects.filter(pk=agent.pk).update(dpop_bound_access_tokens=True)
        except ValidationError as error:
            errors = getattr(error, "message_dict", {"": error.messages})
            code = "invalid_redirect_uri" if "redirect_uris" in errors else "invalid_client_metadata"
            return oauth_error(code, "; ".join(f"{k}: {' '.join(v)}".strip(": ") for k, v in errors.items()))
        body = {
            "client_id": agent.client_id,
            "client_id_issued_at": int(agent.created.timestamp()),
            "client_name": agent.name,
            "redirect_uris": agent.redirect_uris.split(),
            "grant_types": agent.grant_types,
            "response_types": ["code"] if AUTHORIZATION_CODE in agent.grant_types else [],
            "token_endpoint_auth_method": method,
            "scope": " ".join(fields["allowed_scopes"]),
            "dpop_bound_access_tokens": bound,
            **({"jwks": agent.jwks} if agent.jwks else {}),
            **({"jwks_uri": agent.jwks_uri} if agent.jwks_uri else {}),
        }
        if secret:
            body |= {"client_secret": secret, "client_secret_expires_at": 0}
        response = JsonResponse(body, status=201)
        response["Cache-Control"] = "no-store"
        return response

    def _read(self, metadata):
        def text(name, limit=2000):
            value = metadata.get(name, "")
            if not isinstance(value, str) or len(value) > limit:
                raise ValidationError({name: "Expected a string."})
            return value

        redirect_uris = metadata.get("redirect_uris", [])
        grant_types = metadata.get("grant_types", [AUTHORIZATION_CODE])
        for name, value in (("redirect_uris", redirect_uris), ("grant_types", grant_types)):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value) or len(value) > 10:
                raise ValidationError({name: "Expected a list of strings."})
        method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in AUTH_METHODS:
            raise ValidationError({"token_endpoint_auth_method": "Unsupported method."})
        keys = {"jwks": metadata.get("jwks"), "jwks_uri": text("jwks_uri", 500)}
        if (method == "private_key_jwt") != bool(keys["jwks"] or keys["jwks_uri"]):
            raise ValidationError({"jwks": "private_key_jwt needs jwks or jwks_uri, and only it uses them."})
        if set(grant_types) - set(GRANT_TYPES):
            raise ValidationError({"grant_types": "Unsupported grant type."})
        if CLIENT_CREDENTIALS in grant_types and method == "none":
            raise ValidationError({"grant_types": "client_credentials needs client authentication."})
        requested_scopes = scopes.parse(text("scope")) if metadata.get("scope") else []
        if requested_scopes is None or not set(requested_scopes) <= set(scopes.catalogue.all()):
            raise ValidationError({"scope": "Unknown scope."})
        return {
            "name": text("client_name", 200),
            "grant_types": grant_types,
            "redirect_uris": redirect_uris,
            "confidential": method != "none",
            "allowed_scopes": requested_scopes,
            "homepage_uri": text("client_uri", 500),
            "logo_uri": text("logo_uri", 500),
            "token_endpoint_auth_method": method,
            "dpop_bound_access_tokens": metadata.get("dpop_bound_access_tokens") is True,  # RFC 9449 §5.2
            **keys,
        }
