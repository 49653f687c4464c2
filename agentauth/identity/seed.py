"""Seed the scope catalogue and the server's own resource from settings; the admin edits them
afterwards."""

from django.conf import settings

from . import resources


def seed_scopes(**kwargs):
    from .models import Scope

    for name, entry in settings.AGENTAUTH_SCOPES.items():
        Scope.objects.get_or_create(
            name=name,
            defaults={
                "description": entry["description"],
                "risk": entry.get("risk", Scope.Risk.LOW),
                "requires_approval": entry.get("requires_approval", False),
                "permission": entry.get("permission", ""),
            },
        )
    resources.ensure_registered()
