"""Register a resource server (an API or MCP server that accepts our tokens) with the scopes it
defines; with --introspect, also the credentials it introspects with. Prints JSON."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agentauth.identity.models import CLIENT_CREDENTIALS, Agent, ResourceServer, Scope
from agentauth.oauth.registration import register_agent
from agentauth.resource.errors import metadata_url


def scope_spec(text):
    """Names ("tools:read tools:write"), or one scope in full: NAME|words|risk|approval, e.g.
    "tools:execute|Run tools for you|high|approval"."""
    if "|" not in text:
        return [Scope(name=name, description=name) for name in text.split()]
    name, description, risk, approval = ([*text.split("|"), "", "", ""])[:4]
    if risk and risk not in Scope.Risk.values:
        raise CommandError(f"--scope {text!r}: risk is one of {', '.join(Scope.Risk.values)}")
    return [
        Scope(
            name=name.strip(),
            description=description.strip() or name.strip(),
            risk=risk or Scope.Risk.LOW,
            requires_approval=approval.strip() == "approval",
        )
    ]


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--identifier", required=True, help="its absolute URI, e.g. https://tools.example.com/mcp")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", action="append", default=[], type=scope_spec, help=scope_spec.__doc__)
        parser.add_argument("--introspect", action="store_true", help="also create its introspection credentials")

    @transaction.atomic
    def handle(self, *args, **options):
        resource = ResourceServer(identifier=options["identifier"], name=options["name"])
        try:
            resource.full_clean(exclude=["match_key"])
            resource.save()
            defined = [scope for given in options["scope"] for scope in given]
            for scope in defined:
                scope.resource_server = resource
                scope.full_clean()
                scope.save()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        answer = {
            "identifier": resource.identifier,
            "name": resource.name,
            "scopes": [scope.name for scope in defined],
            "resource_metadata": metadata_url(resource.identifier),
        }
        if options["introspect"]:
            agent, secret = register_agent(
                name=f"{resource.name} (introspection)",
                grant_types=[CLIENT_CREDENTIALS],
                registered_via=Agent.RegisteredVia.COMMAND,
            )
            Agent.objects.filter(pk=agent.pk).update(is_resource_server=True)
            ResourceServer.objects.filter(pk=resource.pk).update(introspector=agent)
            answer |= {"introspection_client_id": agent.client_id, "introspection_client_secret": secret}
        self.stdout.write(json.dumps(answer, indent=2))
