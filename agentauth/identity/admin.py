"""Admin for agents, scopes, signing keys, tokens and the revocation list; never a secret or token value."""

from django.apps import apps
from django.contrib import admin, messages
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from agentauth.lib.admin import ViewOnlyAdmin

from . import lifecycle
from .models import Agent, ResourceServer, Revocation, Scope, SigningKey

# DOT registers its own admin for the swapped models; ours replaces it.
for model in (Agent, get_access_token_model(), get_refresh_token_model()):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
for name in ("IDToken", "AuthorizationCode", "DeviceAuthorization"):
    model = apps.get_model("agentauth", name)
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "client_id", "kind", "status", "user", "registered_via", "last_used_at", "created"]
    list_filter = ["status", "kind", "registered_via", "vouched_for", "client_type"]
    search_fields = ["name", "client_id", "user__username", "developer"]
    readonly_fields = ["client_id", "created", "updated", "last_used_at", "secret_rotated_at"]
    exclude = [
        "client_secret",
        "hash_client_secret",
        "skip_authorization",
        "algorithm",
        "post_logout_redirect_uris",
        "allowed_origins",
        "authorization_grant_type",
    ]
    filter_horizontal = ["allowed_scopes"]
    raw_id_fields = ["user"]
    actions = ["suspend", "resume", "revoke", "vouch"]

    @admin.action(description="Mark selected agents verified (you checked who runs them)")
    def vouch(self, request, queryset):
        done = queryset.update(vouched_for=True)
        for agent in queryset:
            self.log_change(request, agent, "Marked verified")
        self.message_user(request, f"{done} agent(s) marked verified.")

    @admin.action(description="Suspend selected agents (their tokens stop working at once)")
    def suspend(self, request, queryset):
        self._set(request, queryset, lifecycle.suspend)

    @admin.action(description="Resume selected agents")
    def resume(self, request, queryset):
        self._set(request, queryset, lifecycle.resume)

    @admin.action(description="Revoke selected agents for good")
    def revoke(self, request, queryset):
        self._set(request, queryset, lifecycle.revoke_agent)

    def _set(self, request, queryset, change):
        done = 0
        for agent in queryset:
            try:
                change(agent)
                done += 1
            except ValueError as error:
                self.message_user(request, f"{agent}: {error}", messages.WARNING)
        self.message_user(request, f"{done} agent(s) updated.")


class DefinedScopes(admin.TabularInline):
    model = Scope
    fields = ["name", "description", "risk", "requires_approval", "permission"]
    extra = 0


@admin.register(ResourceServer)
class ResourceServerAdmin(admin.ModelAdmin):
    """APIs and MCP servers that accept our tokens: tokens asked for one carry its identifier as
    `aud`, its scopes are grouped under its name on consent screens, and only its introspector may
    introspect them."""

    list_display = ["name", "identifier", "introspector", "created_at"]
    search_fields = ["name", "identifier"]
    raw_id_fields = ["introspector"]
    inlines = [DefinedScopes]


@admin.register(Scope)
class ScopeAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "risk", "requires_approval", "permission"]
    list_filter = ["risk", "requires_approval"]
    search_fields = ["name", "description"]


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["kid", "algorithm", "created_at", "retired_at"]
    fields = ["kid", "algorithm", "public_jwk", "created_at", "retired_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # python manage.py rotate_signing_key


class TokenAdmin(ViewOnlyAdmin):
    """Token rows show who, which agent and when; the value itself is never stored or shown."""

    list_select_related = ["application", "user"]
    search_fields = ["user__username", "application__name", "application__client_id"]
    raw_id_fields = ["user", "application"]


@admin.register(get_access_token_model())
class AccessTokenAdmin(TokenAdmin):
    list_display = ["jti", "user", "application", "scope", "expires", "created"]
    list_filter = ["application"]
    fields = ["jti", "user", "application", "scope", "expires", "created"]


@admin.register(get_refresh_token_model())
class RefreshTokenAdmin(TokenAdmin):
    list_display = ["id", "user", "application", "token_family", "created", "revoked"]
    list_filter = ["revoked"]
    fields = ["user", "application", "token_family", "created", "revoked"]


@admin.register(Revocation)
class RevocationAdmin(ViewOnlyAdmin):
    list_display = ["key", "expires_at", "created_at"]
    search_fields = ["key"]
