from django.contrib import admin

from .models import Passkey


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin):
    """Admins may see and remove a person's passkeys (a lost device), never add one."""

    list_display = ["name", "user", "created_at", "last_used_at", "backed_up"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["user", "name", "sign_count", "transports", "aaguid", "backed_up", "created_at", "last_used_at"]
    exclude = ["credential_id", "public_key", "user_handle"]

    def has_add_permission(self, request):
        return False
