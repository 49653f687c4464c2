"""Play a sample agent: get a token, ask to pay, show a countdown while waiting, print the outcome.

It waits out the approval's whole lifetime (up to APPROVAL_MAX_TTL), longer than its token lives:
on a 401 it takes a fresh token and goes on waiting."""

import sys
import time
import uuid
from datetime import datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agentauth.identity.models import Agent
from agentauth.oauth.registration import register_agent, rotate_secret

AGENT_NAME = "Demo payment agent"
FINAL = {"executed", "denied", "expired", "cancelled", "failed"}


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--amount", required=True)
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--to", default="ACME Ltd")
        parser.add_argument("--memo", default="Demo invoice")
        parser.add_argument("--owner", default=settings.AGENTAUTH_DEMO_USERNAME, help="the person it acts for")
        parser.add_argument("--server", default=settings.AGENTAUTH_ISSUER, help="base URL of the running portal")

    def handle(self, *args, **options):
        self.server = server = options["server"].rstrip("/")
        self.client_id, self.secret = self._credentials(options["owner"])
        headers = {"Authorization": self._authorization(), "Idempotency-Key": uuid.uuid4().hex}
        body = {k: options[k] for k in ("amount", "currency", "to", "memo")}
        self.stdout.write(f"Agent asks to pay {body['amount']} {body['currency']} to {body['to']} ...")
        asked = requests.post(f"{server}/api/v1/payments/", json=body, headers=headers, timeout=10)
        if asked.status_code == 201:
            self.stdout.write(self.style.SUCCESS(f"Paid at once (below your limit): payment {asked.json()['id']}"))
            return
        if asked.status_code != 202:
            raise CommandError(f"Refused ({asked.status_code}): {asked.text}")
        outcome = self._wait(server + urlsplit(asked.json()["status_url"]).path, headers, asked.json())
        style = self.style.SUCCESS if outcome["status"] == "executed" else self.style.ERROR
        detail = outcome.get("result") or outcome.get("reason") or ""
        self.stdout.write(style(f"\nOutcome: {outcome['status']} {detail}"))
        if outcome["status"] != "executed":
            sys.exit(1)

    def _credentials(self, username):
        owner = get_user_model().objects.filter(username=username).first()
        if owner is None:
            raise CommandError(f"No person {username!r}; run `make run` once to seed the demo person.")
        agent = Agent.objects.filter(user=owner, name=AGENT_NAME).exclude(status=Agent.Status.REVOKED).first()
        if agent is None:
            agent, secret = register_agent(
                name=AGENT_NAME,
                owner=owner,
                grant_types=["client_credentials"],
                registered_via=Agent.RegisteredVia.COMMAND,
                description="Started from `python manage.py demo_agent`. It asks before every payment.",
                grant_scopes=["payments:execute", "payments:read"],
            )
        else:
            secret = rotate_secret(agent)  # only a hash is kept, so each run takes a fresh secret
        return agent.client_id, secret

    def _authorization(self):
        try:
            token = requests.post(
                f"{self.server}/o/token/",
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.secret),
                timeout=10,
            )
        except requests.ConnectionError:
            raise CommandError(f"Nothing answers at {self.server}: start the portal with `make run` first.") from None
        if token.status_code != 200:
            raise CommandError(f"No token: {token.text}")
        return f"Bearer {token.json()['access_token']}"

    def _wait(self, status_url, headers, state):
        expires = datetime.fromisoformat(state["expires_at"]).timestamp()
        self.stdout.write(f"Waiting for {state['approval_id'][:12]}… — approve or deny it in the portal.")
        while True:
            response = requests.get(status_url, params={"wait": 1}, headers=headers, timeout=10)
            if response.status_code == 401:  # the token ran out before the approval did
                headers["Authorization"] = self._authorization()
                continue
            if response.status_code != 200:
                raise CommandError(f"The status URL answered {response.status_code}: {response.text[:200]}")
            answer = response.json()
            if answer["status"] in FINAL:
                return answer
            left = max(0, int(expires - time.time()))
            self.stdout.write(f"\r  {answer['status']}: {left // 60:02d}:{left % 60:02d} left ", ending="")
            self.stdout.flush()
