"""Play a sample agent: get a token, ask to pay, show a countdown while waiting, print the outcome.

It is written with the agent SDK (`agentauth_client`, clients/python/), as any agent would be. It
waits out the approval's whole lifetime (up to APPROVAL_MAX_TTL), longer than its token lives:
the SDK takes a fresh token when one is refused and goes on waiting."""

import sys

from agentauth_client import AgentAuthError, ApprovalError, Client, TransportError
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agentauth.identity.models import Agent
from agentauth.oauth.registration import register_agent, rotate_secret

AGENT_NAME = "Demo payment agent"


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--amount", required=True)
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--to", default="ACME Ltd")
        parser.add_argument("--memo", default="Demo invoice")
        parser.add_argument("--owner", default=settings.AGENTAUTH_DEMO_USERNAME, help="the person it acts for")
        parser.add_argument("--server", default=settings.AGENTAUTH_ISSUER, help="issuer URL of the running portal")

    def handle(self, *args, **options):
        server = options["server"].rstrip("/")
        self._announced = False
        client_id, secret = self._credentials(options["owner"])
        body = {k: options[k] for k in ("amount", "currency", "to", "memo")}
        self.stdout.write(f"Agent asks to pay {body['amount']} {body['currency']} to {body['to']} ...")
        try:
            with Client(server, client_id, client_secret=secret) as agent:
                # Short long-polls: the countdown below ticks with each answer.
                paid = agent.post("/api/v1/payments/", json=body, on_progress=self._show, poll_wait=1)
        except TransportError:
            raise CommandError(f"Nothing answers at {server}: start the portal with `make run` first.") from None
        except ApprovalError as outcome:
            self.stdout.write(self.style.ERROR(f"\nOutcome: {outcome.approval.status} {outcome.reason or ''}"))
            sys.exit(1)
        except AgentAuthError as refused:
            raise CommandError(f"Refused: {refused}") from None
        if paid.approval is None:
            self.stdout.write(self.style.SUCCESS(f"Paid at once (below your limit): payment {paid.data['id']}"))
        else:
            self.stdout.write(self.style.SUCCESS(f"\nOutcome: executed {paid.data}"))

    def _show(self, approval):
        if approval.status == "pending" and not self._announced:
            self._announced = True
            self.stdout.write(f"Waiting for {approval.id[:12]}… — approve or deny it in the portal.")
        if not approval.is_final:
            left = int(approval.seconds_left() or 0)
            self.stdout.write(f"\r  {approval.status}: {left // 60:02d}:{left % 60:02d} left ", ending="")
            self.stdout.flush()

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
