"""Create N people, each with a client-credentials application and some documents; print the credentials.

With --one-secret every application gets the same secret, hashed once: PBKDF2's 1.5M rounds take
about a second per hash on a slow machine. Each token request still checks it at full cost.
"""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from documents.models import Document

BODY = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=32)
        parser.add_argument("--prefix", default="bench")
        parser.add_argument("--documents", type=int, default=10)
        parser.add_argument("--body-length", type=int, default=300)
        parser.add_argument("--one-secret", action="store_true")

    @transaction.atomic
    def handle(self, *args, clients, prefix, documents, body_length, one_secret, **options):
        body = (BODY * (body_length // len(BODY) + 1))[:body_length]
        shared = generate_client_secret()
        shared_hash = make_password(shared)
        credentials = []
        for index in range(clients):
            person = get_user_model().objects.create_user(f"{prefix}-person-{index}")
            secret = shared if one_secret else generate_client_secret()
            application = Application.objects.create(
                name=f"{prefix} agent {index}",
                user=person,
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
                # hashed on save with PASSWORD_HASHERS[0], unless it is the shared hash already
                client_secret=shared_hash if one_secret else secret,
            )
            Document.objects.bulk_create(
                Document(owner=person, title=f"Document {number}", body=body) for number in range(documents)
            )
            credentials.append({"client_id": application.client_id, "client_secret": secret})
        self.stdout.write(json.dumps(credentials))
