import io
import threading
import time

import pytest
from django.core.management import call_command

from approvals import services
from approvals.models import ApprovalRequest
from examples.models import Payment

from ..factories import UserFactory
from ..servers import asgi_server

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_demo_agent_waits_for_the_person_and_reports_the_payment(catalogue):
    demo = UserFactory(username="demo")
    out = io.StringIO()
    with asgi_server() as server:
        agent = threading.Thread(
            target=call_command,
            args=["demo_agent", "--amount", "120", "--currency", "EUR", "--server", server],
            kwargs={"stdout": out},
        )
        agent.start()
        deadline = time.monotonic() + 20
        while not ApprovalRequest.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        services.decide(ApprovalRequest.objects.get(), approve=True, by=demo)
        agent.join(timeout=30)

    assert "Outcome: executed" in out.getvalue()
    assert Payment.objects.get().amount == 120
