import http.server
import threading

from django.core import mail
from django.test import Client
from jwcrypto import jwt

from agentauth.identity import keys
from approvals import services
from approvals.models import ApprovalPolicy
from examples.payments import PAY

PAYMENT = {"amount": "120.00", "currency": "EUR", "to": "ACME Ltd", "memo": ""}


def ask(user, agent, **params):
    approval, _ = services.request_approval(
        user=user,
        agent=agent,
        action=PAY,
        params={**PAYMENT, **params},
    )
    return approval


def test_the_person_sets_a_limit_on_the_agent_page(client, alice, payer):
    client.force_login(alice)

    client.post(
        f"/agents/{payer.client_id}/approval-policy/",
        {"scope": "payments:execute", "mode": "above", "limit": "20", "currency": "EUR"},
    )

    policy = ApprovalPolicy.objects.get(user=alice, agent=payer)
    assert policy.mode == "above" and str(policy.limit) == "20.00"
    assert ask(alice, payer, amount="5.00").automatic
    assert not ask(alice, payer, amount="25.00").automatic
    page = client.get(f"/agents/{payer.client_id}/").content.decode()
    assert 'value="20.00"' in page


def test_a_limit_needs_a_positive_amount(client, alice, payer):
    client.force_login(alice)

    client.post(
        f"/agents/{payer.client_id}/approval-policy/",
        {"scope": "payments:execute", "mode": "above", "limit": "-3", "currency": "EUR"},
    )

    assert not ApprovalPolicy.objects.exists()


def test_nobody_else_sets_my_policy(client, bob, payer):
    client.force_login(bob)

    response = client.post(
        f"/agents/{payer.client_id}/approval-policy/",
        {"scope": "payments:execute", "mode": "above", "limit": "1000", "currency": "EUR"},
    )

    assert response.status_code == 404


def test_the_person_is_emailed_a_link_that_does_not_decide(alice, payer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        approval = ask(alice, payer)

    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert f"/approvals/{approval.pk}/" in message.body
    Client().get(f"/approvals/{approval.pk}/")  # a link scanner following the link
    approval.refresh_from_db()
    assert approval.status == "pending"


class Receiver(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers["Content-Type"], body.decode()))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_decision_is_called_back_as_a_signed_jwt(alice, payer, settings, django_capture_on_commit_callbacks):
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.handle_request, daemon=True).start()
    settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    payer.callback_uri = f"http://127.0.0.1:{server.server_port}/hook"
    payer.save(update_fields=["callback_uri"])
    approval = ask(alice, payer)

    with django_capture_on_commit_callbacks(execute=True):
        services.decide(approval, approve=False, by=alice, reason="no")
    server.server_close()

    content_type, body = Receiver.received[-1]
    assert content_type == "application/jwt"
    kid = jwt.JWT()
    kid.deserialize(body)
    verified = jwt.JWT(jwt=body, key=keys.verification_keys().get_key(kid.token.jose_header["kid"]), algs=["ES256"])
    import json

    claims = json.loads(verified.claims)
    assert claims["approval_id"] == approval.pk and claims["status"] == "denied"
    assert claims["aud"] == payer.client_id
