"""Seed demo data (DEBUG only, once): the scope catalogue, a person `demo`, and
three of their agents to try the flows with: one that reads documents, one that pays (and asks
first), one that asks by CIBA. Their credentials are printed on every start."""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from agentauth.identity.models import CIBA, CLIENT_CREDENTIALS, Agent
from agentauth.identity.seed import seed_scopes
from agentauth.oauth.registration import register_agent

DEMO_AGENTS = [
    {
        "name": "Demo reader",
        "grant_types": [CLIENT_CREDENTIALS],
        "grant_scopes": ["documents:read"],
        "description": "Reads your documents; it can change nothing.",
    },
    {
        "name": "Demo payer",
        "grant_types": [CLIENT_CREDENTIALS],
        "grant_scopes": ["payments:execute", "payments:read"],
        "description": "Pays invoices, and asks you before every payment.",
    },
    {
        "name": "Demo CIBA agent",
        "grant_types": [CIBA],
        "allowed_scopes": ["payments:execute", "documents:read"],
        "description": "Asks you by CIBA (a backchannel request) and waits for your answer.",
    },
]


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        seed_scopes()
        User = get_user_model()
        base = Path(settings.BASE_DIR)
        remembered, agents_file = base / ".demo-password", base / ".demo-agents.json"
        if User.objects.filter(username=settings.AGENTAUTH_DEMO_USERNAME).exists():
            if remembered.exists():
                self._announce(remembered.read_text().strip(), agents_file)
            return
        if not settings.DEBUG:
            self.stdout.write("Demo data is only seeded with DEBUG on.")
            return
        password = secrets.token_urlsafe(9)
        person = User.objects.create_user(settings.AGENTAUTH_DEMO_USERNAME, "demo@example.com", password)
        credentials = []
        for spec in DEMO_AGENTS:
            agent, secret = register_agent(owner=person, registered_via=Agent.RegisteredVia.COMMAND, **spec)
            credentials.append({"name": agent.name, "client_id": agent.client_id, "client_secret": secret})
        remembered.write_text(password + "\n")
        agents_file.write_text(json.dumps(credentials, indent=2) + "\n")
        self._announce(password, agents_file)

    def _announce(self, password, agents_file):
        username = settings.AGENTAUTH_DEMO_USERNAME
        self.stdout.write(self.style.SUCCESS(f"\n  Sign in as  {username} / {password}\n"))
        if agents_file.exists():
            self.stdout.write("  Demo agents (dev only; also in .demo-agents.json):")
            for agent in json.loads(agents_file.read_text()):
                self.stdout.write(f"    {agent['name']:<20} {agent['client_id']}  {agent['client_secret']}")
            self.stdout.write("")
