"""The audit trail in the admin, read-only."""

from django.contrib import admin

from agentauth.lib.admin import RecordAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    """The audit log, read-only: nobody, superusers included, edits or deletes a record here."""

    list_display = ["id", "at", "event", "outcome", "actor_type", "actor", "subject", "client_id", "ip"]
    list_filter = ["event", "outcome", "actor_type"]
    search_fields = ["event", "actor", "client_id", "subject__username", "request_id"]
    date_hierarchy = "at"
    list_select_related = ["subject"]
