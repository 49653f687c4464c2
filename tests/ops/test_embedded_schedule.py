"""`make run` on the embedded default runs the periodic jobs in its own process."""

from datetime import timedelta

import pytest

from agentauth.lib import schedule
from agentauth.oauth.registration import register_agent
from approvals import services
from approvals.models import ApprovalRequest
from examples.payments import PAY

from ..factories import UserFactory
from ..servers import asgi_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_due_names_what_has_waited_its_interval():
    plan = {"often": {"schedule": 1}, "rarely": {"schedule": 60.0}}
    assert schedule.due(plan, {"often": 100, "rarely": 100}, 101.5) == ["often"]


def test_the_web_process_expires_overdue_approvals_without_a_beat(catalogue):
    person = UserFactory(username="olga")
    agent, _ = register_agent(
        name="Payer", owner=person, grant_types=["client_credentials"], grant_scopes=["payments:execute"]
    )
    approval, _ = services.request_approval(
        user=person,
        agent=agent,
        action=PAY,
        params={"amount": "9.00", "currency": "EUR", "to": "Cafe", "memo": ""},
        ttl=timedelta(seconds=1),
    )
    embedded = {"REDIS_URL": "", "AGENTAUTH_RUN_SCHEDULE": "1", "AGENTAUTH_SWEEP_SECONDS": "1"}
    with asgi_process(**embedded):
        expired = wait_for(lambda: ApprovalRequest.objects.get(pk=approval.pk).status == "expired", timeout=20)
    assert expired
