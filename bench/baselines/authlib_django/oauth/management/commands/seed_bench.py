"""Create N people, each with a client-credentials client; print the credentials."""

import json
import secrets

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction

from oauth.models import OAuth2Client


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=32)

    @transaction.atomic
    def handle(self, *args, clients, **options):
        credentials = []
        for index in range(clients):
            client = OAuth2Client.objects.create(
                user=User.objects.create_user(f"authlib-person-{index}"),
                client_id=secrets.token_urlsafe(18),
                client_secret=secrets.token_urlsafe(32),
                client_name=f"authlib agent {index}",
                scope="documents:read documents:write",
                grant_type="client_credentials",
                token_endpoint_auth_method="client_secret_basic",
            )
            credentials.append({"client_id": client.client_id, "client_secret": client.client_secret})
        self.stdout.write(json.dumps(credentials))
