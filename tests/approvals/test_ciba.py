"""OpenID CIBA, driven the way a client that knows only the spec would: form posts and JSON."""

import base64
import http.server
import json
import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from agentauth.identity.models import Agent
from agentauth.oauth.registration import register_agent
from approvals import services
from approvals.models import ApprovalRequest
from examples.models import Payment

CIBA = "urn:openid:params:grant-type:ciba"
DETAILS = [
    {
        "type": "payment_initiation",
        "instructedAmount": {"currency": "EUR", "amount": "123.50"},
        "creditorName": "Merchant A",
        "creditorAccount": {"iban": "DE02100100109307118603"},
        "remittanceInformationUnstructured": "Ref Number Merchant",
    }
]


@pytest.fixture
def ciba_agent(catalogue):
    agent, secret = register_agent(name="Shopping agent", grant_types=[CIBA], allowed_scopes=["payments:execute"])
    agent.plain_secret = secret
    return agent


def post(agent, path, data):
    credentials = base64.b64encode(f"{agent.client_id}:{agent.plain_secret}".encode()).decode()
    return Client().post(
        path,
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )


def ask(agent, **overrides):
    data = {
        "scope": "openid payments:execute",
        "login_hint": "alice",
        "binding_message": "W4SCT",
        "authorization_details": json.dumps(DETAILS),
    } | overrides
    return post(agent, "/o/bc-authorize", {key: value for key, value in data.items() if value is not None})


def poll(agent, auth_req_id):
    cache.delete(f"agentauth:ciba:poll:{auth_req_id}")  # each poll here waits out the interval
    return post(agent, "/o/token/", {"grant_type": CIBA, "auth_req_id": auth_req_id})


def approve(auth_req_id, person):
    services.decide(ApprovalRequest.objects.get(pk=auth_req_id), approve=True, by=person)


def test_poll_flow_end_to_end(ciba_agent, alice):
    started = ask(ciba_agent)
    assert started.status_code == 200, started.content
    body = started.json()
    assert set(body) == {"auth_req_id", "expires_in", "interval"}
    assert poll(ciba_agent, body["auth_req_id"]).json()["error"] == "authorization_pending"

    approval = ApprovalRequest.objects.get(pk=body["auth_req_id"])
    assert approval.binding_message == "W4SCT" and approval.describe() == "Pay 123.50 EUR to Merchant A"
    approve(body["auth_req_id"], alice)
    token = poll(ciba_agent, body["auth_req_id"])

    assert token.status_code == 200, token.content
    issued = token.json()
    assert issued["scope"] == "payments:execute"
    assert issued["authorization_details"][0]["instructedAmount"] == {"currency": "EUR", "amount": "123.50"}
    assert poll(ciba_agent, body["auth_req_id"]).json()["error"] == "invalid_grant"

    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued['access_token']}"}
    payment = {"amount": "123.50", "currency": "EUR", "to": "Merchant A", "memo": "Ref Number Merchant"}
    other = dict(payment, amount="999.00")
    refused = Client().post("/api/v1/payments/", json.dumps(other), content_type="application/json", **bearer)
    paid = Client().post("/api/v1/payments/", json.dumps(payment), content_type="application/json", **bearer)
    again = Client().post("/api/v1/payments/", json.dumps(payment), content_type="application/json", **bearer)

    assert refused.status_code == 403 and refused.json()["error"] == "approval_mismatch"
    assert paid.status_code == 201 and paid.json()["status"] == "executed"
    assert again.status_code == 409 and again.json()["error"] == "already_consumed"
    assert Payment.objects.count() == 1


def test_polling_too_fast_slows_the_client_down(ciba_agent, alice):
    auth_req_id = ask(ciba_agent).json()["auth_req_id"]

    first = post(ciba_agent, "/o/token/", {"grant_type": CIBA, "auth_req_id": auth_req_id})
    second = post(ciba_agent, "/o/token/", {"grant_type": CIBA, "auth_req_id": auth_req_id})

    assert first.json()["error"] == "authorization_pending"
    assert second.json()["error"] == "slow_down"
    assert cache.get(f"agentauth:ciba:poll:{auth_req_id}")["interval"] >= 2 + 5


@pytest.mark.catalogue("AP-04")
def test_another_client_polling_gets_invalid_grant(ciba_agent, alice, catalogue):
    other, secret = register_agent(name="Other", grant_types=[CIBA])
    other.plain_secret = secret
    auth_req_id = ask(ciba_agent).json()["auth_req_id"]

    assert poll(other, auth_req_id).json()["error"] == "invalid_grant"


def test_denial_and_expiry(ciba_agent, alice):
    denied = ask(ciba_agent).json()["auth_req_id"]
    expired = ask(ciba_agent).json()["auth_req_id"]

    services.decide(ApprovalRequest.objects.get(pk=denied), approve=False, by=alice)
    ApprovalRequest.objects.filter(pk=expired).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert poll(ciba_agent, denied).json()["error"] == "access_denied"
    assert poll(ciba_agent, expired).json()["error"] == "expired_token"


def test_an_unknown_person_looks_like_one_who_never_answers(ciba_agent, alice):
    unknown = ask(ciba_agent, login_hint="nobody-here")
    known = ask(ciba_agent)

    assert unknown.status_code == known.status_code == 200
    assert set(unknown.json()) == set(known.json())
    assert poll(ciba_agent, unknown.json()["auth_req_id"]).json()["error"] == "authorization_pending"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"login_hint": None}, "invalid_request"),
        ({"id_token_hint": "x"}, "invalid_request"),
        ({"scope": "payments:execute"}, "invalid_scope"),
        ({"scope": "openid admin:execute"}, "invalid_scope"),
        ({"binding_message": "x" * 65}, "invalid_binding_message"),
        ({"binding_message": "ok\u202eko"}, "invalid_binding_message"),
        ({"requested_expiry": "99999"}, "invalid_request"),
        ({"authorization_details": '[{"type": "teleport"}]'}, "invalid_authorization_details"),
        ({"authorization_details": "not json"}, "invalid_authorization_details"),
        ({"authorization_details": '[{"type":"payment_initiation","type":"x"}]'}, "invalid_authorization_details"),
        (
            {
                "authorization_details": json.dumps(
                    [dict(DETAILS[0], instructedAmount={"currency": "EUR", "amount": "-1"})]
                )
            },
            "invalid_authorization_details",
        ),
    ],
)
def test_bad_requests_get_the_ciba_error(ciba_agent, alice, overrides, error):
    response = ask(ciba_agent, **overrides)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert not ApprovalRequest.objects.exists()


def test_clients_must_authenticate_and_be_allowed(ciba_agent, cc_agent):
    anonymous = Client().post(
        "/o/bc-authorize",
        urlencode({"scope": "openid", "login_hint": "alice"}),
        content_type="application/x-www-form-urlencoded",
    )

    assert anonymous.status_code == 401
    assert ask(cc_agent).json()["error"] == "unauthorized_client"


@pytest.mark.catalogue("RL-03")
def test_a_flood_of_requests_does_not_bury_the_inbox(ciba_agent, alice, settings):
    settings.CIBA_RATE_PER_PERSON = "3/min"

    statuses = [ask(ciba_agent).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    assert ApprovalRequest.objects.count() == 3


def test_the_person_sees_ciba_requests_in_the_same_inbox(ciba_agent, alice, client):
    ask(ciba_agent)
    client.force_login(alice)

    inbox = client.get("/approvals/").content.decode()

    assert "Pay 123.50 EUR to Merchant A" in inbox


class PingReceiver(http.server.BaseHTTPRequestHandler):
    pings = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        PingReceiver.pings.append((self.headers["Authorization"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_ping_mode_notifies_the_client_which_then_fetches_its_token(
    ciba_agent, alice, settings, django_capture_on_commit_callbacks
):
    server = http.server.HTTPServer(("127.0.0.1", 0), PingReceiver)
    threading.Thread(target=server.handle_request, daemon=True).start()
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    Agent.objects.filter(pk=ciba_agent.pk).update(
        ciba_delivery_mode="ping", ciba_notification_endpoint=f"http://127.0.0.1:{server.server_port}/ping"
    )
    auth_req_id = ask(ciba_agent, client_notification_token="secret-bearer-8f2a").json()["auth_req_id"]

    with django_capture_on_commit_callbacks(execute=True):
        approve(auth_req_id, alice)
    server.server_close()

    assert PingReceiver.pings[-1] == ("Bearer secret-bearer-8f2a", {"auth_req_id": auth_req_id})
    assert poll(ciba_agent, auth_req_id).status_code == 200


def test_ping_mode_needs_a_notification_token(ciba_agent, alice):
    Agent.objects.filter(pk=ciba_agent.pk).update(ciba_delivery_mode="ping")

    assert ask(ciba_agent).json()["error"] == "invalid_request"


def test_the_stuck_sweep_leaves_an_approved_request_to_its_token(ciba_agent, alice):
    auth_req_id = ask(ciba_agent).json()["auth_req_id"]
    approve(auth_req_id, alice)

    assert services.requeue_stuck(older_than=timedelta(0)) == 0
    assert ApprovalRequest.objects.get(pk=auth_req_id).status == "approved"
    assert poll(ciba_agent, auth_req_id).status_code == 200
