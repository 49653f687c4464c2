"""The requests the client builds, read straight off its sans-IO core (no server needed)."""

import base64
import subprocess
import sys
from pathlib import Path

import httpx
import jwt
import pytest
from agentauth_client import ActionFailed, Cancelled, Denied, DPoPKey, Expired, ServerMetadata, SigningKey, Token
from agentauth_client._protocol import ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, Protocol, Send, Sleep

ISSUER = "https://auth.example"
METADATA = ServerMetadata({"issuer": ISSUER, "token_endpoint": f"{ISSUER}/o/token/"})
PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "python"


def first_request(protocol, steps):
    protocol.metadata = METADATA  # discovered already
    return next(steps)


def test_token_exchange_posts_an_rfc_8693_request_and_reads_the_issued_token():
    protocol = Protocol(ISSUER, "agent-a", client_secret="s3cret")
    steps = protocol.exchange_token("subject.jwt", audience="agent-b", scope="documents:read")

    sent = first_request(protocol, steps)
    answer = {
        "access_token": "delegated.jwt",
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "documents:read",
    }
    with pytest.raises(StopIteration) as done:
        steps.send(httpx.Response(200, json=answer))

    assert isinstance(sent, Send) and (sent.method, sent.url) == ("POST", f"{ISSUER}/o/token/")
    assert sent.data == {
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": "subject.jwt",
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "audience": "agent-b",
        "scope": "documents:read",
    }
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"agent-a:s3cret").decode()
    token = done.value.value
    assert token.access_token == "delegated.jwt" and token.scope == "documents:read"
    assert token.raw["issued_token_type"] == ACCESS_TOKEN_TYPE and token.refresh_token is None


def test_a_keyed_client_sends_a_short_lived_single_use_assertion_for_the_issuer():
    key = SigningKey(DPoPKey.generate().key, kid="k1")
    protocol = Protocol(ISSUER, "agent-a", private_key=key.key, private_key_id="k1")

    sent = first_request(protocol, protocol.client_credentials(scope="documents:read"))
    again = first_request(protocol, protocol.client_credentials(scope="documents:read"))

    assertion = sent.data["client_assertion"]
    claims = jwt.decode(assertion, key.key.public_key(), algorithms=["ES256"], audience=ISSUER)
    assert "Authorization" not in sent.headers and sent.data["client_id"] == "agent-a"
    assert sent.data["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert claims["iss"] == claims["sub"] == "agent-a" and 0 < claims["exp"] - claims["iat"] <= 60
    assert jwt.get_unverified_header(assertion)["kid"] == "k1"
    assert claims["jti"] != jwt.decode(again.data["client_assertion"], options={"verify_signature": False})["jti"]


def test_a_dpop_client_proves_its_key_at_the_token_endpoint():
    key = DPoPKey.generate()
    protocol = Protocol(ISSUER, "agent-a", client_secret="s3cret", dpop_key=key)

    sent = first_request(protocol, protocol.client_credentials())

    header = jwt.get_unverified_header(sent.headers["DPoP"])
    proof = jwt.decode(sent.headers["DPoP"], key.key.public_key(), algorithms=["ES256"])
    assert header["typ"] == "dpop+jwt" and "d" not in header["jwk"]
    assert proof["htm"] == "POST" and proof["htu"] == f"{ISSUER}/o/token/" and "ath" not in proof


STATUS_URL = f"{ISSUER}/api/v1/approvals/ap1"


def approval_answer(status, **more):
    body = {"approval_id": "ap1", "status": status, "expires_at": "2099-01-01T00:00:00+00:00", "interval": 2}
    return httpx.Response(200, json=body | more)


def drive(steps, answers):
    """Answer each Send with the next response and record every Sleep: (result, sleeps, sent)."""
    sleeps, sent, answer = [], [], None
    answers = iter(answers)
    while True:
        try:
            op = steps.send(answer)
        except StopIteration as done:
            return done.value, sleeps, sent
        if isinstance(op, Sleep):
            sleeps.append(op.seconds)
            answer = None
        else:
            sent.append(op)
            answer = next(answers)


def test_an_approval_answered_at_once_is_polled_with_backoff_and_retry_after():
    protocol = Protocol(ISSUER, "agent-a", client_secret="s3cret")
    steps = protocol.wait_for_approval(STATUS_URL, token=Token("at"))
    answers = [
        approval_answer("pending"),
        approval_answer("pending"),  # no news, at once: back off from the interval
        httpx.Response(503, headers={"Retry-After": "7"}),  # wait as long as asked
        approval_answer("pending"),  # no news again: back off further
        approval_answer("executed", result={"payment_id": 9}),
    ]

    result, sleeps, sent = drive(steps, answers)

    assert result.data == {"payment_id": 9} and result.approval.status == "executed"
    assert sleeps == [2.0, 7.0, 3.0]
    assert all(request.params == {"wait": 30} and request.url == STATUS_URL for request in sent)
    assert sent[0].headers["Authorization"] == "Bearer at"


@pytest.mark.parametrize(
    "status, error", [("denied", Denied), ("expired", Expired), ("cancelled", Cancelled), ("failed", ActionFailed)]
)
def test_each_final_status_but_executed_raises_its_own_error(status, error):
    protocol = Protocol(ISSUER, "agent-a", client_secret="s3cret")
    steps = protocol.wait_for_approval(STATUS_URL, token=Token("at"))

    with pytest.raises(error) as raised:
        drive(steps, [approval_answer(status, reason="because")])

    assert raised.value.reason == "because" and raised.value.approval.status == status


def test_the_reference_is_generated_from_the_current_docstrings():
    check = subprocess.run(
        [sys.executable, str(PACKAGE / "tools" / "reference.py"), "--check"], capture_output=True, text=True
    )

    assert check.returncode == 0, check.stderr
