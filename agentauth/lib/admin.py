"""Admin base classes for rows that code writes and people only read."""

from django.contrib import admin


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
