import io
import threading
import time

import pytest
from django.core.management import call_command

from agentauth.identity.models import AccessToken
from approvals import services
from approvals.models import ApprovalRequest
from examples.models import Payment

from ..factories import UserFactory
from ..servers import asgi_server, free_port

pytestmark = [pytest.mark.django_db(transaction=True)]


def run_demo_agent_and_approve(meanwhile=lambda: None):
    demo = UserFactory(username="demo")
    out = io.StringIO()
    port = free_port()  # the agent finds the server from its issuer's metadata: serve at the issuer
    with asgi_server(port=port, AGENTAUTH_ISSUER=f"http://127.0.0.1:{port}") as server:
        agent = threading.Thread(
            target=call_command,
            args=["demo_agent", "--amount", "120", "--currency", "EUR", "--server", server],
            kwargs={"stdout": out},
        )
        agent.start()
        deadline = time.monotonic() + 20
        while not ApprovalRequest.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        meanwhile()
        services.decide(ApprovalRequest.objects.get(), approve=True, by=demo)
        agent.join(timeout=30)
    return out.getvalue()


def test_demo_agent_waits_for_the_person_and_reports_the_payment(catalogue):
    assert "Outcome: executed" in run_demo_agent_and_approve()
    assert Payment.objects.get().amount == 120


def test_demo_agent_outlives_its_token(catalogue):
    def token_dies():  # as it would after its ten minutes, while the approval still has five
        AccessToken.objects.get().revoke()
        time.sleep(2)  # a long-poll or two answered 401 in the meantime

    assert "Outcome: executed" in run_demo_agent_and_approve(meanwhile=token_dies)
    assert AccessToken.objects.count() == 1  # the fresh one it took
