"""Agents (OAuth clients with an identity of their own), the scope catalogue, signing keys, the
revocation list, and the DOT token tables swapped into this app."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import connections, models
from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractDeviceGrant,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)

from agentauth.lib.text import clean_text

from .redirects import redirect_uri_matches, validate_redirect_uris
from .resources import ResourceServer, normalise  # noqa: F401 - ResourceServer: a model of this app
from .signals import agents_updated

SCOPE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}:(read|write|execute)$")

# Standard grant type names (RFC 6749, RFC 8628) and DOT's internal spelling of each.
AUTHORIZATION_CODE = "authorization_code"
CLIENT_CREDENTIALS = "client_credentials"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN = "refresh_token"
CIBA = "urn:openid:params:grant-type:ciba"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANT_TYPES = (AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, REFRESH_TOKEN, CIBA)
DOT_GRANT_NAMES = {
    AbstractApplication.GRANT_AUTHORIZATION_CODE: AUTHORIZATION_CODE,
    AbstractApplication.GRANT_CLIENT_CREDENTIALS: CLIENT_CREDENTIALS,
    AbstractApplication.GRANT_DEVICE_CODE: DEVICE_CODE,
}


def scope_list(value):
    """Split a space-delimited scope string into a sorted list without duplicates."""
    return sorted(set(value.split())) if value else []


class Scope(models.Model):
    """One entry of the scope catalogue: `<resource>:<action>`, defined by one resource server."""

    class Risk(models.TextChoices):
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"

    name = models.CharField(max_length=80, unique=True, help_text="resource:action, action is read, write or execute")
    description = models.CharField(max_length=200, help_text="Plain words a person understands")
    risk = models.CharField(max_length=10, choices=Risk, default=Risk.LOW)
    requires_approval = models.BooleanField(
        default=False, help_text="Actions under this scope wait for the person's approval"
    )
    permission = models.CharField(
        max_length=150, blank=True, help_text="app_label.codename a person must hold to grant this scope"
    )
    resource_server = models.ForeignKey(
        ResourceServer, models.PROTECT, null=True, blank=True, related_name="scopes", help_text="Who defines it"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if not SCOPE_PATTERN.match(self.name):
            raise ValidationError({"name": "Use resource:action, with action one of read, write, execute."})

    @property
    def resource(self):
        return self.name.split(":", 1)[0]

    @property
    def action(self):
        return self.name.split(":", 1)[1]


class AgentQuerySet(models.QuerySet):
    def owned_by(self, user):
        return self.filter(user=user)

    def update(self, **fields):
        updated = super().update(**fields)
        if set(fields) != {"last_used_at"}:  # token requests remember agents (identity.known_agents)
            agents_updated.send(Agent)
        return updated


class Agent(AbstractApplication):
    """An AI agent: an OAuth client with an identity of its own, separate from its person."""

    class Kind(models.TextChoices):
        BYO = "byo", "Brought by a person"
        FIRST_PARTY = "first_party", "Shipped by the application"

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        REVOKED = "revoked"

    class RegisteredVia(models.TextChoices):
        PORTAL = "portal"
        API = "api", "Registration API"
        ADMIN = "admin"
        COMMAND = "command"
        METADATA_DOCUMENT = "cimd", "Client ID Metadata Document"

    description = models.TextField(blank=True, max_length=2000)
    developer = models.CharField(max_length=200, blank=True)
    homepage_uri = models.URLField(blank=True)
    logo_uri = models.URLField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.BYO)
    status = models.CharField(max_length=20, choices=Status, default=Status.ACTIVE)
    grant_types = models.JSONField(default=list, help_text="Standard grant type names this agent may use")
    registered_via = models.CharField(max_length=20, choices=RegisteredVia, default=RegisteredVia.ADMIN)
    allowed_scopes = models.ManyToManyField(
        Scope, blank=True, help_text="Limit the agent to these scopes; empty means any catalogue scope"
    )
    callback_uri = models.URLField(
        blank=True, help_text="Where approval decisions are POSTed as signed JWTs (https only)"
    )
    ciba_delivery_mode = models.CharField(
        max_length=10, choices=[("poll", "poll"), ("ping", "ping")], default="poll", help_text="CIBA token delivery"
    )
    ciba_notification_endpoint = models.URLField(blank=True, help_text="CIBA ping mode: where to notify (https)")
    is_resource_server = models.BooleanField(default=False, help_text="May call the introspection endpoint (RFC 7662)")
    jwks = models.JSONField(
        default=dict, blank=True, help_text="Public keys for private_key_jwt client authentication (RFC 7523)"
    )
    jwks_uri = models.URLField(blank=True, max_length=500, help_text="Or where those public keys are published")
    dpop_bound_access_tokens = models.BooleanField(
        default=False, help_text="Refuse token requests without a DPoP proof (RFC 9449 §5.2)"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    vouched_for = models.BooleanField(
        "verified by an admin", default=False, help_text="An admin checked who runs it; consent screens say so"
    )

    objects = AgentQuerySet.as_manager()

    class Meta(AbstractApplication.Meta):
        verbose_name = "agent"

    def __str__(self):
        return self.name or self.client_id

    @property
    def owner(self):
        return self.user

    def save(self, *args, **kwargs):
        self._describe_from_metadata_document()
        super().save(*args, **kwargs)

    @property
    def verified(self):
        """First-party agents, and those an admin checked, are vouched for; anything else is
        self-described."""
        return self.kind == self.Kind.FIRST_PARTY or self.vouched_for

    @property
    def metadata_host(self):
        """For a client whose client_id is its metadata document's URL: that URL's host."""
        return urlsplit(self.client_id).hostname if self.registration_source == "cimd" else None

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE

    def allows_grant_type(self, *grant_types):
        # DOT allows one grant type per application; an agent may hold several.
        return any(DOT_GRANT_NAMES.get(name, name) in self.grant_types for name in grant_types)

    def is_usable(self, request):
        return self.is_active

    def redirect_uri_allowed(self, uri):
        return redirect_uri_matches(uri, self.redirect_uris.split())

    def _describe_from_metadata_document(self):
        # django-oauth-toolkit fills in a CIMD client the way it knows (one DOT grant type, the
        # document's client_name); ours also lists its grant types and names it by its host.
        if self.registration_source != "cimd":
            return
        self.grant_types = [AUTHORIZATION_CODE, REFRESH_TOKEN]
        self.registered_via = self.RegisteredVia.METADATA_DOCUMENT
        self.kind = self.Kind.BYO
        self.name = clean_text(self.name, 100) or urlsplit(self.client_id).hostname or "Unnamed client"

    def clean_fields(self, exclude=None):
        self._describe_from_metadata_document()
        super().clean_fields(exclude=exclude)

    def clean(self):
        errors = {}
        try:
            validate_redirect_uris(self.redirect_uris.split())
        except ValidationError as error:
            errors["redirect_uris"] = error.messages
        unknown = set(self.grant_types) - set(GRANT_TYPES)
        if unknown:
            errors["grant_types"] = f"Unsupported grant types: {', '.join(sorted(unknown))}"
        if AUTHORIZATION_CODE in self.grant_types and not self.redirect_uris.split():
            errors["redirect_uris"] = "The authorization code flow needs at least one redirect URI."
        if errors:
            raise ValidationError(errors)

    def scope_names(self):
        """The scopes this agent may ever ask for (None: the whole catalogue).

        Read once per instance (changing the scopes clears it): one token request asks several
        times. Agents a token request loads have them already (identity.known_agents)."""
        if not hasattr(self, "allowed_scope_names"):
            self.allowed_scope_names = registered_scope_names(self)
        return self.allowed_scope_names or None


def registered_scope_names(agent):
    """The names of the agent's registered scopes, by one plain SELECT: as the ORM's prefetch or a
    subquery they cost several times the round trip in CPU."""
    through, scope = Agent.allowed_scopes.through._meta, Scope._meta
    with connections[agent._state.db or "default"].cursor() as cursor:
        cursor.execute(
            f"SELECT s.name FROM {through.db_table} t JOIN {scope.db_table} s ON s.id = t.scope_id "  # noqa: S608
            "WHERE t.agent_id = %s",
            [agent.pk],
        )
        return [name for (name,) in cursor.fetchall()]


class SigningKey(models.Model):
    """An ES256 key that signs access tokens; the private half is encrypted at rest."""

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=10, default="ES256")
    encrypted_private_key = models.TextField()
    public_jwk = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.kid

    @property
    def is_current(self):
        return self.retired_at is None


class Revocation(models.Model):
    """The durable copy of the revocation list; the cache holds the fast copy."""

    key = models.CharField(max_length=200, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.key


# The DOT models, swapped into this app before its first migration: DOT allows one grant type per
# application, and an agent may hold several (Agent.allows_grant_type).
class AccessToken(AbstractAccessToken):
    jti = models.CharField(max_length=64, blank=True, db_index=True)
    # RFC 8693: the token this one was exchanged for. Deleting (revoking) a token deletes every
    # token handed on from it, down the whole chain, and each goes on the revocation list.
    parent = models.ForeignKey("self", models.CASCADE, null=True, blank=True, related_name="handed_on")


class RefreshToken(AbstractRefreshToken):
    # RFC 9449 §5: a public client's refresh token only works with a proof from the same key.
    dpop_jkt = models.CharField(max_length=64, blank=True)


class IDToken(AbstractIDToken):
    pass


class AuthorizationCode(AbstractGrant):
    pass


class DeviceAuthorization(AbstractDeviceGrant):
    # DOT's last_checked is auto_now (set at creation too); slow_down needs the last poll.
    polled_at = models.DateTimeField(null=True, blank=True)
