from datetime import timedelta

import pytest
from django.utils import timezone

from agentauth.oauth.registration import register_agent
from approvals.models import AlreadyDecided, ApprovalRequest, canonical_hash


@pytest.fixture
def approval(alice, catalogue):
    agent, _ = register_agent(name="Bot", owner=alice, grant_types=["client_credentials"])
    params = {"amount": "10.00", "currency": "EUR", "to": "ACME", "memo": ""}
    return ApprovalRequest.objects.create(
        user=alice,
        agent=agent,
        scope="payments:execute",
        action="payments.create",
        params=params,
        params_hash=canonical_hash("payments.create", params),
        expires_at=timezone.now() + timedelta(minutes=5),
    )


def test_second_decision_loses(approval, alice):
    stale_copy = ApprovalRequest.objects.get(pk=approval.pk)
    approval.approve(by=alice)

    with pytest.raises(AlreadyDecided) as lost:
        stale_copy.deny(by=alice)

    assert lost.value.error == "already_decided"
    assert ApprovalRequest.objects.get().status == "approved"


def test_expired_approval_cannot_be_approved_even_before_the_sweep(approval, alice):
    ApprovalRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    approval.refresh_from_db()

    with pytest.raises(AlreadyDecided) as lost:
        approval.approve(by=alice)

    assert lost.value.error == "expired"
    assert approval.effective_status == "expired"


def test_the_sweep_cannot_expire_a_decided_approval(approval, alice):
    approval.approve(by=alice)
    ApprovalRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(AlreadyDecided):
        ApprovalRequest.objects.get().expire()


@pytest.mark.catalogue("AP-03")
def test_ids_are_long_and_random(approval):
    assert len(approval.pk) >= 43


@pytest.mark.catalogue("AP-02")
def test_parameters_are_bound_by_hash(approval):
    assert approval.matches("payments.create", {"amount": "10.00", "currency": "EUR", "to": "ACME", "memo": ""})
    assert not approval.matches("payments.create", {"amount": "10000.00", "currency": "EUR", "to": "ACME", "memo": ""})
