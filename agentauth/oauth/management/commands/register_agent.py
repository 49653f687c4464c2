"""Register an owned agent, grant it scopes for its owner, print its credentials as JSON."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from agentauth.identity import scopes
from agentauth.identity.models import GRANT_TYPES, Agent
from agentauth.oauth.registration import register_agent


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="username of the person the agent acts for")
        parser.add_argument("--name", required=True)
        parser.add_argument("--grant-type", action="append", dest="grant_types", required=True, choices=GRANT_TYPES)
        parser.add_argument("--scope", default="", help='space-separated scopes, e.g. "documents:read"')
        parser.add_argument("--redirect-uri", action="append", dest="redirect_uris", default=[])
        parser.add_argument("--public", action="store_true", help="a public agent without a secret")
        parser.add_argument(
            "--jwks",
            metavar="FILE",
            help="a JWKS file of its public keys: it authenticates with private_key_jwt, no secret",
        )
        parser.add_argument("--jwks-uri", default="", help="or the https URL where it publishes them")

    def handle(self, *args, **options):
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No person with username {options['owner']!r}.")
        names = scopes.parse(options["scope"])
        if names is None or not set(names) <= set(scopes.catalogue.all()):
            raise CommandError(f"Unknown scope in {options['scope']!r}; known: {' '.join(scopes.catalogue.all())}")
        refused = set(names) - set(scopes.grantable_by(owner, names))
        if refused:
            raise CommandError(f"{owner} may not grant: {' '.join(sorted(refused))}")
        try:
            jwks = json.loads(Path(options["jwks"]).read_text()) if options["jwks"] else None
        except (OSError, ValueError) as error:
            raise CommandError(f"--jwks {options['jwks']}: {error}") from None
        try:
            agent, secret = register_agent(
                name=options["name"],
                owner=owner,
                grant_types=options["grant_types"],
                redirect_uris=options["redirect_uris"],
                confidential=not options["public"],
                registered_via=Agent.RegisteredVia.COMMAND,
                grant_scopes=names,
                jwks=jwks,
                jwks_uri=options["jwks_uri"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(
            json.dumps(
                {
                    "client_id": agent.client_id,
                    "client_secret": secret,
                    "name": agent.name,
                    "owner": owner.get_username(),
                    "grant_types": agent.grant_types,
                    "scope": " ".join(names),
                },
                indent=2,
            )
        )
