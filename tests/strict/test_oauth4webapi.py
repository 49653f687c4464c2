"""A spec-strict client library (oauth4webapi, run by Node) against a live server, unmodified.

It checks every RFC MUST it knows: issuer equality, metadata shapes, `iss` on authorization
responses, JWT access token profile (RFC 9068) against the JWKS, challenges on 401s. The person's
steps (consent, device code, CIBA approval) are taken over HTTP with a signed-in session.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from jwcrypto import jwk

from agentauth.identity.models import Agent
from agentauth.oauth.registration import register_agent

from ..agentauth.test_end_to_end import PASSWORD, issuer  # noqa: F401 - the live-server issuer fixture
from ..conftest import missing_service
from ..factories import UserFactory

HERE = Path(__file__).resolve().parent
CIBA = "urn:openid:params:grant-type:ciba"


@pytest.fixture
def strict_setup(issuer):  # noqa: F811 - the imported fixture
    person = UserFactory(username="carol")
    session = requests.Session()
    session.get(f"{issuer}/accounts/login/")
    signed_in = session.post(
        f"{issuer}/accounts/login/",
        data={"username": "carol", "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert signed_in.status_code == 302
    worker, worker_secret = register_agent(
        name="Strict worker",
        owner=person,
        grant_types=["client_credentials"],
        grant_scopes=["documents:read", "payments:read"],
    )
    ciba, ciba_secret = register_agent(name="Strict shopper", grant_types=[CIBA], allowed_scopes=["payments:execute"])
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="worker-key")
    keyed, _ = register_agent(
        name="Strict keyed worker",
        owner=person,
        grant_types=["client_credentials"],
        grant_scopes=["documents:read"],
        jwks={"keys": [key.export_public(as_dict=True) | {"alg": "ES256"}]},
    )
    resource, resource_secret = register_agent(name="Strict API", grant_types=["client_credentials"])
    Agent.objects.filter(pk=resource.pk).update(is_resource_server=True)
    return {
        "issuer": issuer,
        "person": {"login": "carol", "cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.items())},
        "csrf": session.cookies["csrftoken"],
        "worker": {"client_id": worker.client_id, "client_secret": worker_secret},
        "ciba": {"client_id": ciba.client_id, "client_secret": ciba_secret},
        "resource_server": {"client_id": resource.client_id, "client_secret": resource_secret},
        "keyed_worker": {"client_id": keyed.client_id, "private_jwk": key.export_private(as_dict=True)},
    }


def run_node(script, config):
    if not shutil.which("node") or not (HERE / "node_modules" / "oauth4webapi").exists():
        missing_service("Node and tests/strict/node_modules are needed (`make venv-dev` runs npm ci)")
    finished = subprocess.run(  # noqa: S603 - our own script
        ["node", str(HERE / script)],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=HERE,
    )
    results = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    return finished, results


def test_every_flow_passes_a_spec_strict_client_unmodified(strict_setup):
    finished, results = run_node("flows.mjs", strict_setup)

    failed = [result for result in results if not result["ok"]]
    assert not failed and finished.returncode == 0, json.dumps(failed, indent=1) + finished.stderr[-3000:]
    assert {result["flow"] for result in results} >= {
        "discovery",
        "resource discovery",
        "dynamic registration",
        "client credentials",
        "jwt access token profile",
        "invalid client challenge",
        "code + pkce",
        "refresh rotation",
        "revocation and introspection",
        "device",
        "ciba",
        "dpop client credentials and api",
        "dpop public client refresh",
        "private_key_jwt",
        "private_key_jwt client credentials",
    }
