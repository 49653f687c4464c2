"""Admins see and filter approvals and set policies; they can cancel, never decide for a person."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone

from agentauth.lib.admin import RecordAdmin

from . import services
from .models import ApprovalPolicy, ApprovalRequest


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("hour", "Last hour"), ("day", "Last day"), ("older", "Older than a day")]

    def queryset(self, request, queryset):
        day_ago = timezone.now() - timedelta(days=1)
        if self.value() == "hour":
            return queryset.filter(created_at__gte=timezone.now() - timedelta(hours=1))
        if self.value() == "day":
            return queryset.filter(created_at__gte=day_ago)
        if self.value() == "older":
            return queryset.filter(created_at__lt=day_ago)
        return queryset


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(RecordAdmin):
    """Decisions belong to the person: an admin may look, and cancel, never decide."""

    list_display = ["created_at", "summary", "user", "agent", "status", "automatic", "expires_at", "decided_at"]
    list_filter = ["status", "automatic", "scope", AgeFilter, "agent"]
    search_fields = ["id", "user__username", "agent__name", "agent__client_id"]
    list_select_related = ["user", "agent"]
    readonly_fields = [field.name for field in ApprovalRequest._meta.fields]
    actions = ["cancel_selected"]

    @admin.display(description="action")
    def summary(self, approval):
        return approval.describe()

    @admin.action(description="Cancel selected pending approvals")
    def cancel_selected(self, request, queryset):
        cancelled = sum(
            services.cancel(approval, f"Cancelled by an administrator ({request.user.get_username()}).")
            for approval in queryset.pending().select_related("agent")
        )
        self.message_user(request, f"{cancelled} approval(s) cancelled.")


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    list_display = ["scope", "user", "agent", "mode", "limit", "currency", "budget", "budget_hours", "updated_at"]
    list_filter = ["mode", "scope"]
    search_fields = ["scope", "user__username", "agent__name"]
    raw_id_fields = ["user", "agent"]
