"""The OAuth2Validator: which agent may get which scopes, for whom, and when.

Every decision is keyed on `request.client` (the authenticated agent), never on a client_id
argument (CVE-2026-118669). The token endpoint runs in one transaction (views.TokenView), so the
row locks taken here hold until the tokens are saved; client credentials take none, and write
their token only while the grant they read is unchanged (`tokens.store`).
"""

import contextlib
import hashlib
from datetime import timedelta

from django.utils import timezone
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc8628 import errors as device_errors

from agentauth.consent import grants
from agentauth.identity import dpop, known_agents, scopes, tokens
from agentauth.identity.models import (
    CLIENT_CREDENTIALS,
    DEVICE_CODE,
    Agent,
    AuthorizationCode,
    DeviceAuthorization,
    RefreshToken,
    scope_list,
)

from . import binding, client_keys


class AgentServer(Server):
    """oauthlib's server without the grants RFC 9700 forbids: no implicit, no password."""

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        self._grant_types.pop("password", None)
        self._response_types.pop("token", None)


SLOW_DOWN_STEP = 5  # seconds added to the interval on each slow_down (RFC 8628 §3.5)


class AgentValidator(OAuth2Validator):
    # --- who is calling --------------------------------------------------------------------------

    def _load_application(self, client_id, request):
        if not request.client and isinstance(client_id, str) and "\x00" not in client_id:
            with contextlib.suppress(Agent.DoesNotExist):
                request.client = known_agents.get(client_id)
        return super()._load_application(client_id, request)  # checks and reuses it, or looks further

    def authenticate_client(self, request, *args, **kwargs):
        authenticated = super().authenticate_client(request, *args, **kwargs)
        if not authenticated and getattr(request, "client_assertion", None):
            agent = client_keys.authenticate(request)  # private_key_jwt (RFC 7523 §2.2)
            if agent is not None:
                request.client, request.client_id, authenticated = agent, agent.client_id, True
        if (
            authenticated
            and request.client.client_type == Agent.CLIENT_PUBLIC
            and request.grant_type == CLIENT_CREDENTIALS
        ):
            return False  # client credentials need a secret, which a public agent does not have
        return authenticated

    # --- which grants and scopes --------------------------------------------------------------

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if not super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs):
            return False
        if binding.unbound_request_refused(request.client):
            raise errors.CustomOAuth2Error("invalid_dpop_proof", binding.PROOF_REQUIRED, request=request)
        if grant_type == CLIENT_CREDENTIALS:
            # Client credentials act for the agent's owner, within the owner's standing grant.
            # An agent without an owner, or without consent, can act for nobody.
            owner = request.client.user
            return owner is not None and owner.is_active and self._owner_grant(request) is not None
        if grant_type == DEVICE_CODE:
            self._redeem_device_code(request)
        return True

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        """RFC 6749 §3.3, when `scope` is left out: at the token endpoint the owner's standing
        grant; at the authorization endpoint the scopes registered for the agent (the person
        still chooses among them on the consent screen)."""
        if request.grant_type == CLIENT_CREDENTIALS:
            grant = self._owner_grant(request)
            return grant.scopes if grant else []
        if request.grant_type is None and request.response_type == "code":
            return scopes.available_to(request.client)
        return []

    def _owner_grant(self, request):
        """The owner's standing grant, read once per token request (four checks need it). Not
        locked: the token is written only while the grant is unchanged (`tokens.store`)."""
        if not hasattr(request, "owner_grant"):
            owner = request.client.user
            request.owner_grant = grants.standing_grant(owner, request.client) if owner else None
        return request.owner_grant

    def validate_scopes(self, client_id, names, client, request, *args, **kwargs):
        if not names or any(not scopes.SCOPE_PATTERN.match(name) for name in names):
            return False
        if not set(names) <= set(scopes.available_to(request.client)):
            return False
        if request.grant_type == CLIENT_CREDENTIALS:
            effective = grants.effective_scopes(
                request.client.user, request.client, names, grant=self._owner_grant(request)
            )
            if not effective:
                return False
            request.scopes = effective
            request.acting_user = request.client.user
            request.user = request.client.user
        return True

    # --- authorization codes: consumed on first presentation --------------------------------

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        # Lock and delete the code in the token endpoint's transaction: a second presentation,
        # concurrent or later, finds nothing, and a failed PKCE check burns the code too.
        found = AuthorizationCode.objects.select_for_update().filter(code=code, application=client).first()
        if found is None:
            return False
        # A resource it may not have is the agent's mistake, not an attack: refuse before the
        # code is spent, so the agent can ask again for the right one (RFC 8707 §2.2).
        request.token_audience = tokens.audience(getattr(request, "resource", None), found.resource, request)
        found.delete()
        if found.is_expired():
            return False
        request.authorization_code = found
        request.scopes = found.scope.split()
        request.user = found.user
        return True

    def _code(self, request):
        return getattr(request, "authorization_code", None)

    def get_code_challenge(self, code, request):
        found = self._code(request)
        return found.code_challenge if found else None

    def get_code_challenge_method(self, code, request):
        found = self._code(request)
        return found.code_challenge_method if found else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        found = self._code(request)
        return found is not None and found.redirect_uri == redirect_uri

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        found = self._code(request)
        return found.scope.split() if found else []

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        pass  # already deleted in validate_code

    # --- device codes (RFC 8628 §3.4, §3.5) --------------------------------------------------

    def _redeem_device_code(self, request):
        device_code = request.device_code if isinstance(request.device_code, str) else None
        found = (
            DeviceAuthorization.objects.select_for_update()
            .filter(device_code=device_code, client_id=request.client.client_id)
            .first()
            if device_code
            else None
        )
        if found is None:
            raise errors.InvalidGrantError(request=request)
        now = timezone.now()
        if found.is_expired() or found.status == found.EXPIRED:
            raise device_errors.ExpiredTokenError(request=request)
        if found.status == found.DENIED:
            raise device_errors.AccessDenied(request=request)
        if found.status == found.AUTHORIZATION_PENDING:
            too_soon = found.polled_at is not None and now - found.polled_at < timedelta(seconds=found.interval)
            if too_soon:
                found.interval += SLOW_DOWN_STEP
            found.polled_at = now
            found.save(update_fields=["interval", "polled_at", "last_checked"])
            if too_soon:
                raise device_errors.SlowDownError(request=request)
            raise device_errors.AuthorizationPendingError(request=request)
        # Authorized: hand out tokens once, for the person who consented and what they chose.
        found.delete()
        request.user = found.user
        request.scopes = found.scope.split()

    # --- refresh tokens ----------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        # Serialise rotations of one token: the second of two concurrent refreshes waits here,
        # then sees the token revoked and triggers reuse protection instead of minting twice.
        checksum = hashlib.sha256(refresh_token.encode()).hexdigest()
        list(RefreshToken.objects.select_for_update().filter(token_checksum=checksum))
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        bound = request.refresh_token_instance.dpop_jkt
        if bound and bound != dpop.bound_key():
            return False  # a public client's refresh token works only with a proof from its key
        user = request.user
        return user is not None and user.is_active and grants.standing_grant(user, client) is not None

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        original = scope_list(super().get_original_scopes(refresh_token, request, *args, **kwargs))
        # A refresh never outgrows today's consent, however wide the first token was.
        return grants.effective_scopes(request.user, request.client, original)

    # --- saving tokens -----------------------------------------------------------------------

    def save_bearer_token(self, token, request, *args, **kwargs):
        self._check_consent_covers(token, request)  # before any write, so a refusal can be audited
        if request.grant_type == CLIENT_CREDENTIALS:
            # One write (the token and its audit record, while the grant is unchanged), which
            # needs none of DOT's savepoint.
            return self._save_bearer_token(token, request, *args, **kwargs)
        return super().save_bearer_token(token, request, *args, **kwargs)

    def _check_consent_covers(self, token, request):
        acting_user = request.user or getattr(request, "acting_user", None)
        if acting_user is None:
            return
        # Lock the grant: a revocation that commits first is seen here; one that commits later
        # waits, then finds and revokes this token. Client credentials read it unlocked and
        # write the token only while it is unchanged.
        if hasattr(request, "owner_grant"):
            grant = request.owner_grant
        else:
            grant = grants.standing_grant(acting_user, request.client, lock=True)
        if grant is None or not grant.is_active or not set(token.get("scope", "").split()) <= set(grant.scopes):
            raise errors.InvalidGrantError(description="Consent was withdrawn.", request=request)

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        jkt = dpop.bound_key()
        if jkt and request.client.client_type == Agent.CLIENT_PUBLIC:  # RFC 9449 §5: public clients only
            RefreshToken.objects.filter(pk=refresh.pk).update(dpop_jkt=jkt)
        return refresh

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = tokens.store(
            token["access_token"],
            user=request.user or getattr(request, "acting_user", None),
            agent=request.client,
            scope=token["scope"],
            expires=expires,
            jti=getattr(request, "access_token_jti", ""),
            grant_type=request.grant_type,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
            consent=getattr(request, "owner_grant", None),
        )
        known_agents.mark_used(request.client)
        return access_token
