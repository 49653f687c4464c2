"""Add a new signing key; retired keys stay in the JWKS until every token they signed has expired."""

from django.core.management.base import BaseCommand

from agentauth.identity.keys import publication_window, rotate_signing_key


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        key = rotate_signing_key()
        self.stdout.write(f"New signing key {key.kid}. The previous key stays published for {publication_window()}.")
