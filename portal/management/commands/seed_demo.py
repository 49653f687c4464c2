"""Seed demo data into an empty database: the scope catalogue and a person `demo`."""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from agentauth.identity.seed import seed_scopes


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        seed_scopes()
        User = get_user_model()
        remembered = Path(settings.BASE_DIR) / ".demo-password"
        if User.objects.exists():
            if remembered.exists() and User.objects.filter(username=settings.AGENTAUTH_DEMO_USERNAME).exists():
                self._announce(remembered.read_text().strip())
            return
        if not settings.DEBUG:
            self.stdout.write("Demo data is only seeded with DEBUG on.")
            return
        password = secrets.token_urlsafe(9)
        User.objects.create_user(settings.AGENTAUTH_DEMO_USERNAME, "demo@example.com", password)
        remembered.write_text(password + "\n")
        self._announce(password)

    def _announce(self, password):
        username = settings.AGENTAUTH_DEMO_USERNAME
        self.stdout.write(self.style.SUCCESS(f"\n  Sign in as  {username} / {password}\n"))
