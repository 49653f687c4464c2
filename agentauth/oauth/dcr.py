"""The registration endpoint (RFC 7591 dynamic client registration), and who may use it."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required

from agentauth.identity import scopes
from agentauth.identity.models import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, GRANT_TYPES, Agent
from agentauth.lib.http import credentials

from . import registration
from .protocol import oauth_error, throttled

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RegistrationView(View):
    """RFC 7591 dynamic client registration, admitted by AGENTAUTH_REGISTRATION (see _admission).
    A registered agent has no owner and is not verified: it acts for nobody until a person
    consents, and the consent screen says it described itself."""

    def post(self, request, *args, **kwargs):
        try:
            metadata = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            metadata = None
        refused = self._admission(request, metadata)
        if refused is not None:
            return refused
        if not isinstance(metadata, dict):
            return oauth_error("invalid_client_metadata", "The body must be a JSON object.")
        try:
            fields = self._read(metadata)
            method = fields.pop("token_endpoint_auth_method")
            bound = fields.pop("dpop_bound_access_tokens")
            agent, secret = registration.register_agent(registered_via=Agent.RegisteredVia.API, **fields)
            Agent.objects.filter(pk=agent.pk).update(dpop_bound_access_tokens=bound, registration_source="dcr")
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

    @staticmethod
    def _admission(request, metadata):
        """None when this caller may register this client, else the refusal (see
        AGENTAUTH_REGISTRATION, "token" in production): the initial access token always admits;
        without it, "open" admits anyone and "public" admits public clients, a few per address
        per hour."""
        expected, presented = settings.AGENTAUTH_REGISTRATION_TOKEN, credentials(request, "bearer")
        if expected and presented and constant_time_compare(presented, expected):
            return None
        policy = settings.AGENTAUTH_REGISTRATION or ("open" if settings.AGENTAUTH_OPEN_REGISTRATION else "token")
        public = isinstance(metadata, dict) and metadata.get("token_endpoint_auth_method") == "none"
        if policy == "open":
            return None
        if policy == "public" and public:
            return throttled(("register_ip", f"register:ip:{request.META.get('REMOTE_ADDR', '')}"))
        return oauth_error(
            "invalid_token",
            "An initial access token is required"
            + (" for confidential clients; public ones may register without." if policy == "public" else "."),
            401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

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
