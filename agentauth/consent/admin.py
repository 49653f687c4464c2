"""Admin for grants and their history."""

from django.contrib import admin

from agentauth.lib.admin import RecordAdmin

from . import delegations, grants
from .models import Delegation, Grant, GrantChange


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["user", "agent", "scope_list", "granted_at", "changed_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "agent__name", "agent__client_id"]
    raw_id_fields = ["user", "agent"]
    fields = ["user", "agent", "scopes", "granted_at", "changed_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        stamps = ["granted_at", "changed_at", "revoked_at"]
        return stamps if obj is None else ["user", "agent", *stamps]

    def has_delete_permission(self, request, obj=None):
        return False  # deleting the row would leave its tokens alive: the revoke action cuts them

    def save_model(self, request, obj, form, change):
        # Through the consent functions, as the person's own changes go: history, audit record,
        # the removed scopes' tokens revoked at once, and the change seen by token requests.
        obj.pk = grants.set_scopes(obj.user, obj.agent, obj.scopes, via=GrantChange.Via.ADMIN).pk

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


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ["user", "agent", "delegate", "scope_list", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "agent__name", "delegate__name", "agent__client_id", "delegate__client_id"]
    raw_id_fields = ["user", "agent", "delegate"]
    actions = ["cut"]

    @admin.display(description="scopes")
    def scope_list(self, rule):
        return " ".join(rule.scopes)

    @admin.action(description="Cut selected hand-overs (and every token passed on through them)")
    def cut(self, request, queryset):
        for rule in queryset.active():
            delegations.cut(rule, why="admin")
        self.message_user(request, "Hand-overs cut.")
