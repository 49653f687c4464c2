"""A local push service that does what a real one and the browser would: it checks the VAPID
signature (RFC 8292) and decrypts the message with the subscription's keys (RFC 8291), so a test
sees exactly what a phone would show."""

import base64
import http.server
import json
import os

import http_ece
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from approvals import services
from examples.payments import PAY


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Browser:
    """The keys a browser makes when it subscribes (RFC 8291 §2)."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def keys(self):
        public = self.private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {"p256dh": b64(public), "auth": b64(self.auth)}


class PushService(http.server.BaseHTTPRequestHandler):
    received = []
    answer = 201
    browser = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        scheme, _, credentials = self.headers["Authorization"].partition(" ")
        params = dict(part.strip().split("=", 1) for part in credentials.split(","))
        public = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), base64.urlsafe_b64decode(params["k"] + "=" * (-len(params["k"]) % 4))
        )
        claims = jwt.decode(params["t"], public, algorithms=["ES256"], audience=f"http://{self.headers['Host']}")
        plain = http_ece.decrypt(body, private_key=PushService.browser.private, auth_secret=PushService.browser.auth)
        PushService.received.append(
            {
                "scheme": scheme,
                "claims": claims,
                "message": json.loads(plain),
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        )
        self.send_response(PushService.answer)
        self.end_headers()

    def log_message(self, *args):
        pass


def ask_to_pay(person, agent):
    approval, _ = services.request_approval(
        user=person,
        agent=agent,
        action=PAY,
        params={"amount": "250.00", "currency": "EUR", "to": "ACME Ltd", "memo": "Invoice 7"},
    )
    return approval
