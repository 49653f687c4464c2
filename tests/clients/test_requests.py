"""`Client.request` against a live AgentAuth: payments that wait for their person, approved or
denied, retried with the same Idempotency-Key, and the agent's list of its approvals."""

import threading
import time

import httpx
import pytest
from agentauth_client import Client, Denied

from approvals.models import ApprovalRequest
from examples.models import Payment

from .conftest import PAYMENT
from .person import decide

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_an_approved_payment_runs_once_and_its_result_comes_back(server, payer, browser):
    seen, status_requests, decisions = [], [], []

    def person_approves_a_moment_later(approval):
        seen.append(approval.status)
        if len(seen) == 1:  # the 202: she decides while the agent is parked in its long-poll
            decisions.append(threading.Timer(1.0, decide, args=(browser, server, approval.id, "approve")))
            decisions[0].start()

    def count(request):
        if request.url.path.startswith("/api/v1/approvals/"):
            status_requests.append(request)

    http = httpx.Client(event_hooks={"request": [count]})
    with Client(server, payer.client_id, client_secret=payer.plain_secret, http=http) as client:
        started = time.monotonic()
        result = client.post("/api/v1/payments/", json=PAYMENT, on_progress=person_approves_a_moment_later)
        took = time.monotonic() - started
    decisions[0].join(10)  # the agent may hear of the decision before the person's page does

    payment = Payment.objects.get()
    assert result.approval.status == "executed" and result.data == {"payment_id": payment.pk}
    assert payment.approval_id == result.approval.id and payment.amount == 120
    assert seen[0] == "pending" and seen[-1] == "executed"
    # Woken by the decision itself, not by polling: one or two long-polls, well before a re-check.
    assert len(status_requests) <= 3 and all(r.url.params["wait"] == "30" for r in status_requests)
    assert took < 4.5


def test_a_denied_payment_raises_denied_with_the_persons_reason(server, payer, browser):
    def person_denies(approval):
        if approval.status == "pending":
            decide(browser, server, approval.id, "deny", reason="Not this month")

    with Client(server, payer.client_id, client_secret=payer.plain_secret) as client:
        with pytest.raises(Denied) as denied:
            client.post("/api/v1/payments/", json=PAYMENT, on_progress=person_denies)
        listed = client.approvals()
        pending = client.approvals("pending")

    assert denied.value.reason == "Not this month" and denied.value.approval.status == "denied"
    assert not Payment.objects.exists()
    assert [(approval.id, approval.status) for approval in listed] == [(denied.value.approval.id, "denied")]
    assert listed[0].status_url.endswith(f"/api/v1/approvals/{listed[0].id}") and pending == []


class LosesTheFirstAnswer(httpx.BaseTransport):
    """Delivers every request to the real server, but loses the answer to the first payment: the
    connection drops after the server acted (a network error) or a proxy answers 502 instead."""

    def __init__(self, fault):
        self.inner = httpx.HTTPTransport()
        self.fault = fault
        self.keys = []

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path == "/api/v1/payments/":
            self.keys.append(request.headers.get("Idempotency-Key"))
            if len(self.keys) == 1:
                response.read()
                response.close()
                if self.fault == "dropped":
                    raise httpx.ReadError("connection reset by peer", request=request)
                return httpx.Response(502, text="Bad gateway", request=request)
        return response


def test_a_retried_payment_keeps_its_idempotency_key_and_runs_once(server, payer, browser):
    def person_approves(approval):
        if approval.status == "pending":
            decide(browser, server, approval.id, "approve")

    results, transports = [], []
    for fault in ("dropped", "502"):
        transport = LosesTheFirstAnswer(fault)
        with Client(
            server, payer.client_id, client_secret=payer.plain_secret, http=httpx.Client(transport=transport)
        ) as client:
            results.append(client.post("/api/v1/payments/", json=PAYMENT, on_progress=person_approves))
        transports.append(transport)

    for transport, result in zip(transports, results, strict=True):
        first, retry = transport.keys
        assert first == retry and len(first) == 32  # generated, and the same on the retry
        approval = ApprovalRequest.objects.get(idempotency_key=first)  # the server saw it once
        assert approval.pk == result.approval.id and approval.status == "executed"
    assert Payment.objects.count() == 2  # one per call, not one per attempt
