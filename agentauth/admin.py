"""Admin for agents, scopes, grants, signing keys and tokens; never a secret or token value."""

from django.contrib import admin, messages
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from . import grants
from .models import Agent, AuditEvent, Grant, GrantChange, Revocation, Scope, SigningKey

# DOT registers its own admin for the swapped models; ours replaces it.
for model in (Agent, get_access_token_model(), get_refresh_token_model()):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
for name in ("IDToken", "AuthorizationCode", "DeviceAuthorization"):
    from django.apps import apps

    model = apps.get_model("agentauth", name)
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows that code writes and admins only look at (and may delete)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecordAdmin(ViewOnlyAdmin):
    """Records nobody, superusers included, may change or delete from the admin."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "client_id", "kind", "status", "user", "registered_via", "last_used_at", "created"]
    list_filter = ["status", "kind", "registered_via", "client_type"]
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
    actions = ["suspend", "resume", "revoke"]

    @admin.action(description="Suspend selected agents (their tokens stop working at once)")
    def suspend(self, request, queryset):
        self._set(request, queryset, grants.suspend)

    @admin.action(description="Resume selected agents")
    def resume(self, request, queryset):
        self._set(request, queryset, grants.resume)

    @admin.action(description="Revoke selected agents for good")
    def revoke(self, request, queryset):
        self._set(request, queryset, grants.revoke_agent)

    def _set(self, request, queryset, change):
        done = 0
        for agent in queryset:
            try:
                change(agent)
                done += 1
            except ValueError as error:
                self.message_user(request, f"{agent}: {error}", messages.WARNING)
        self.message_user(request, f"{done} agent(s) updated.")


@admin.register(Scope)
class ScopeAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "risk", "requires_approval", "permission"]
    list_filter = ["risk", "requires_approval"]
    search_fields = ["name", "description"]


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["user", "agent", "scope_list", "granted_at", "changed_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "agent__name", "agent__client_id"]
    raw_id_fields = ["user", "agent"]
    actions = ["revoke"]

    @admin.display(description="scopes")
    def scope_list(self, grant):
        return " ".join(grant.scopes)

    @admin.action(description="Revoke selected grants (and every token they back)")
    def revoke(self, request, queryset):
        for grant in queryset.select_related("user", "agent"):
            grants.revoke_grant(grant.user, grant.agent, via=GrantChange.Via.ADMIN)
        self.message_user(request, "Grants revoked.")


@admin.register(GrantChange)
class GrantChangeAdmin(RecordAdmin):
    list_display = ["at", "grant", "summary", "via"]
    list_filter = ["via"]
    search_fields = ["grant__user__username", "grant__agent__name"]
    list_select_related = ["grant__user", "grant__agent"]


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


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    """The audit log, read-only: nobody, superusers included, edits or deletes a record here."""

    list_display = ["id", "at", "event", "outcome", "actor_type", "actor", "subject", "client_id", "ip"]
    list_filter = ["event", "outcome", "actor_type"]
    search_fields = ["event", "actor", "client_id", "subject__username", "request_id"]
    date_hierarchy = "at"
    list_select_related = ["subject"]
