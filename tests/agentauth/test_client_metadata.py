"""Client ID Metadata Documents: an https client_id is fetched (over real TLS, through the
outbound guard), trusted only as far as it says, shown as unverified, and refused clearly when
it cannot be used."""

import re
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.urls import reverse

from agentauth.audit.models import AuditEvent
from agentauth.identity.models import Agent

from ..conftest import pkce_pair, query_of
from ..https_documents import DocumentServer

CALLBACK = "http://127.0.0.1:33418/callback"


@pytest.fixture
def documents(settings, tmp_path):
    with DocumentServer(tmp_path) as server:
        settings.AGENTAUTH_OUTBOUND_CA_BUNDLE = str(server.ca)
        settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = ["localhost"]
        yield server
    cache.clear()


def document(client_id, **overrides):
    return {
        "client_id": client_id,
        "client_name": "Desk Assistant",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    } | overrides


def authorize(client, client_id, redirect_uri=CALLBACK, challenge="c" * 43):
    return client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "documents:read",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )


def test_metadata_says_documents_are_supported(client, catalogue):
    assert client.get("/.well-known/oauth-authorization-server").json()["client_id_metadata_document_supported"]


def test_a_client_described_by_its_document_gets_a_token(client, alice, documents, catalogue):
    client_id = documents.base + "/clients/desk.json"
    documents.publish("/clients/desk.json", document(client_id), {"Cache-Control": "max-age=600"})
    client.force_login(alice)
    verifier, challenge = pkce_pair()

    page = authorize(client, client_id, challenge=challenge)
    assert page.status_code == 200, re.findall(r"Error: .{0,300}", page.content.decode())  # the reason, if refused
    html = page.content.decode()
    assert "Unverified: describes itself at" in html and "localhost" in html and "Desk Assistant" in html
    consent = client.post(
        "/o/authorize/", {"request": page.context["signed_request"], "scope": ["documents:read"], "allow": "1"}
    )
    code = query_of(consent)["code"]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    token = client.post("/o/token/", urlencode(exchange), content_type="application/x-www-form-urlencoded")

    assert token.status_code == 200, token.content
    agent = Agent.objects.get(client_id=client_id)
    assert agent.registered_via == "cimd" and agent.client_type == Agent.CLIENT_PUBLIC and not agent.verified
    assert AuditEvent.objects.filter(event="agent.registered", client_id=client_id, details__via="cimd").exists()
    assert documents.hits["/clients/desk.json"] == 1  # cached for its max-age
    page = client.get(reverse("portal:agent", args=[client_id]))  # a client_id with slashes in a path
    assert page.status_code == 200 and "Desk Assistant" in page.content.decode()


def test_a_redirect_uri_not_in_the_document_is_refused_here(client, alice, documents, catalogue):
    client_id = documents.base + "/clients/desk.json"
    documents.publish("/clients/desk.json", document(client_id))
    client.force_login(alice)
    answer = authorize(client, client_id, redirect_uri="https://attacker.example/cb")
    assert answer.status_code == 400 and "attacker.example" not in answer.get("Location", "")


def test_a_document_on_a_private_address_is_never_fetched(client, alice, documents, catalogue):
    port = documents.base.rsplit(":", 1)[1]
    client_id = f"https://127.0.0.1:{port}/clients/desk.json"  # not allow-listed: loopback is refused
    documents.publish("/clients/desk.json", document(client_id))
    client.force_login(alice)
    answer = authorize(client, client_id)
    assert answer.status_code == 400
    assert "does not fetch from that address" in answer.content.decode()
    assert documents.hits.get("/clients/desk.json") is None


def test_a_slow_document_times_out_with_a_clear_error(client, alice, documents, settings, catalogue):
    settings.OAUTH2_PROVIDER = settings.OAUTH2_PROVIDER | {"CIMD_FETCH_TIMEOUT_SECONDS": 1}
    client_id = documents.base + "/clients/slow.json"
    documents.publish("/clients/slow.json", document(client_id), delay=3)
    client.force_login(alice)
    answer = authorize(client, client_id)
    assert answer.status_code == 400 and "timed out" in answer.content.decode()


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"client_id": "https://someone-else.example/c.json"}, "its client_id is not the URL"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "must be public"),
        ({"redirect_uris": []}, "no redirect_uris"),
    ],
)
def test_a_document_that_claims_too_much_is_refused_with_its_reason(
    client, alice, documents, change, reason, catalogue
):
    client_id = documents.base + "/clients/bad.json"
    documents.publish("/clients/bad.json", document(client_id) | change)
    client.force_login(alice)
    answer = authorize(client, client_id)
    assert answer.status_code == 400 and reason in answer.content.decode()
    assert not Agent.objects.filter(client_id=client_id).exists()
