"""Each way an agent gets a token, through agentauth_client against a live AgentAuth."""

import time

import httpx
import jwt
import pytest
from agentauth_client import AsyncClient, Client, Denied, DPoPKey, SigningKey
from asgiref.sync import sync_to_async
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth import get_user_model

from agentauth.identity.models import AccessToken
from agentauth.oauth.registration import register_agent
from approvals.models import ApprovalRequest
from examples.models import Payment

from .conftest import PAYMENT, live_agentauth
from .person import PERSON, approve_device_code, decide

pytestmark = [pytest.mark.django_db(transaction=True)]


def claims_of(token):
    return jwt.decode(token.access_token, options={"verify_signature": False})


def test_client_credentials_with_a_secret_gets_the_standing_grant_and_calls_the_api(server, payer):
    with Client(server, payer.client_id, client_secret=payer.plain_secret) as client:
        documents = client.get("/api/v1/documents/")
        token = client.current_token

    assert documents.status_code == 200 and "results" in documents.data
    assert token.token_type == "Bearer" and token.scopes == {"payments:execute", "payments:read", "documents:read"}
    assert claims_of(token)["client_id"] == payer.client_id and claims_of(token)["sub"] == str(payer.user_id)


def test_private_key_jwt_authenticates_without_any_secret(server, person):
    key = SigningKey(ec.generate_private_key(ec.SECP256R1()), kid="sdk-key-1")
    agent, secret = register_agent(
        name="SDK keyed worker",
        owner=person,
        grant_types=["client_credentials"],
        grant_scopes=["documents:read"],
        jwks={"keys": [key.public_jwk()]},
    )

    with Client(server, agent.client_id, private_key=key.key, private_key_id="sdk-key-1") as client:
        documents = client.get("/api/v1/documents/")

    assert secret is None
    assert documents.status_code == 200 and client.current_token.scope == "documents:read"


def test_dpop_binds_the_token_to_the_key_and_answers_the_servers_nonces(catalogue, person, payer):
    key = DPoPKey.generate()
    with live_agentauth(AGENTAUTH_DPOP_NONCE="True") as issuer:
        sent, later = [], []
        http = httpx.Client(event_hooks={"request": [sent.append]})
        with Client(issuer, payer.client_id, client_secret=payer.plain_secret, dpop_key=key, http=http) as client:
            documents = client.get("/api/v1/documents/")
            token = client.current_token
            again = client.get("/api/v1/documents/")
        # Another process holding the same key and token, but no nonce yet: the API asks for one.
        http = httpx.Client(event_hooks={"response": [later.append]})
        with Client(issuer, payer.client_id, client_secret=payer.plain_secret, dpop_key=key, http=http) as elsewhere:
            third = elsewhere.get("/api/v1/documents/", token=token)
        bearer = httpx.get(f"{issuer}/api/v1/documents/", headers={"Authorization": f"Bearer {token.access_token}"})

    assert documents.status_code == again.status_code == third.status_code == 200
    assert token.token_type == "DPoP" and claims_of(token)["cnf"]["jkt"] == key.thumbprint()
    paths = [request.url.path for request in sent]
    assert paths == ["/.well-known/oauth-authorization-server", "/o/token/", "/o/token/"] + ["/api/v1/documents/"] * 2
    proofs = [jwt.decode(r.headers["DPoP"], options={"verify_signature": False}) for r in sent if "DPoP" in r.headers]
    assert "nonce" not in proofs[0] and all("nonce" in proof for proof in proofs[1:])  # asked once, then known
    assert all(proof["htu"] == f"{issuer}/api/v1/documents/" and "ath" in proof for proof in proofs[2:])
    assert [response.status_code for response in later] == [401, 200]
    assert 'error="use_dpop_nonce"' in later[0].headers["WWW-Authenticate"]
    assert bearer.status_code == 401  # stolen without the key, the token is useless


def test_device_login_waits_for_the_person_then_refreshes_before_expiry(server, device_agent, browser):
    with Client(server, device_agent.client_id, refresh_margin=599.7) as client:  # tokens live 600 s
        device = client.start_device_login("documents:read payments:read")
        assert device.verification_uri == f"{server}/device/" and device.user_code in device.verification_uri_complete
        approve_device_code(browser, server, device.user_code, ["documents:read"])  # she allows only one
        token = client.wait_for_device_login(device)
        first = client.get("/api/v1/documents/")
        time.sleep(0.5)  # now within the margin: the next call refreshes first
        second = client.get("/api/v1/documents/")
        refreshed = client.current_token

    assert token.scope == "documents:read" and token.refresh_token
    assert first.status_code == second.status_code == 200
    assert refreshed.access_token != token.access_token and refreshed.refresh_token != token.refresh_token
    assert claims_of(refreshed)["sub"] == str(get_user_model().objects.get(username=PERSON).pk)


def test_device_login_refused_by_the_person_raises_denied(server, device_agent, browser):
    with Client(server, device_agent.client_id) as client:
        device = client.start_device_login("documents:read")
        approve_device_code(browser, server, device.user_code, [], allow=False)

        with pytest.raises(Denied):
            client.wait_for_device_login(device)
        assert client.current_token is None


def test_ciba_with_a_binding_message_gives_a_token_for_exactly_the_approved_payment(server, ciba_agent, browser):
    detail = {
        "type": "payment_initiation",
        "instructedAmount": {"currency": "EUR", "amount": "120.00"},
        "creditorName": "ACME Ltd",
        "remittanceInformationUnstructured": "Invoice 42",
    }
    with Client(server, ciba_agent.client_id, client_secret=ciba_agent.plain_secret) as client:
        started = client.start_ciba(
            login_hint=PERSON, scope="payments:execute", binding_message="SDK-4711", authorization_details=[detail]
        )
        page = browser.get(f"{server}/approvals/{started.auth_req_id}/", timeout=10)
        decide(browser, server, started.auth_req_id, "approve")
        token = client.wait_for_ciba(started)
        paid = client.post("/api/v1/payments/", json=PAYMENT, token=token)

    assert "SDK-4711" in page.text  # the person saw the binding message
    assert ApprovalRequest.objects.get(pk=started.auth_req_id).params["binding_message"] == "SDK-4711"
    assert token.scope == "payments:execute" and token.raw["authorization_details"][0]["creditorName"] == "ACME Ltd"
    assert paid.status_code == 201 and Payment.objects.get().approval_id == started.auth_req_id


def test_a_token_is_renewed_before_it_expires(server, payer):
    with Client(server, payer.client_id, client_secret=payer.plain_secret, refresh_margin=599.7) as client:
        first = client.token()
        assert client.token() is first  # still well inside its life
        time.sleep(0.5)
        second = client.token()

    assert second.access_token != first.access_token
    assert AccessToken.objects.filter(application__client_id=payer.client_id).count() == 2


def test_a_refused_token_is_replaced_once_and_the_call_goes_through(server, payer):
    token_requests = []
    http = httpx.Client(event_hooks={"request": [lambda r: r.url.path == "/o/token/" and token_requests.append(r)]})
    with Client(server, payer.client_id, client_secret=payer.plain_secret, http=http) as agent:
        revoked = agent.token()
        with Client(server, payer.client_id, client_secret=payer.plain_secret) as same_agent_elsewhere:
            same_agent_elsewhere.revoke(revoked.access_token)
        documents = agent.get("/api/v1/documents/")

    assert documents.status_code == 200
    assert agent.current_token.access_token != revoked.access_token
    assert len(token_requests) == 2  # the first token, and exactly one replacement


async def test_the_async_client_runs_the_same_flows(server, payer, browser):
    async with AsyncClient(server, payer.client_id, client_secret=payer.plain_secret) as client:

        def approve(approval):
            if approval.status == "pending":
                decide(browser, server, approval.id, "approve")

        paid = await client.post("/api/v1/payments/", json=PAYMENT, on_progress=approve)
        listed = await client.approvals()

    payment = await sync_to_async(Payment.objects.get)()
    assert paid.approval.status == "executed" and paid.data == {"payment_id": payment.pk}
    assert [approval.id for approval in listed] == [paid.approval.id]
