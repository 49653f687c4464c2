"""The `agentauth` command, run as a separate process against a live AgentAuth."""

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from approvals.models import ApprovalRequest
from examples.models import Payment

from ..servers import BIN, ROOT, wait_for
from .conftest import PAYMENT
from .person import PERSON, decide

pytestmark = [pytest.mark.django_db(transaction=True)]
HERE = Path(__file__).resolve().parent


def agentauth(*args, timeout=60, **env):
    """Run the installed console script; the agent's settings come from the environment."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("AGENTAUTH_")}
    return subprocess.run(
        [str(BIN / "agentauth"), *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def decide_when_asked(browser, issuer, decision):
    """The person, watching the portal: decides on the next approval as soon as it appears."""

    def watch():
        from django.db import connection

        try:
            assert wait_for(lambda: ApprovalRequest.objects.filter(status="pending").exists(), timeout=30)
            decide(browser, issuer, ApprovalRequest.objects.get(status="pending").pk, decision, reason="No.")
        finally:
            connection.close()

    thread = threading.Thread(target=watch)
    thread.start()
    return thread


def test_request_waits_for_the_person_and_exits_by_the_outcome(server, payer, browser, tmp_path):
    agent = {
        "AGENTAUTH_ISSUER": server,
        "AGENTAUTH_CLIENT_ID": payer.client_id,
        "AGENTAUTH_CLIENT_SECRET": payer.plain_secret,
        "AGENTAUTH_CONFIG_DIR": str(tmp_path),
    }
    body = json.dumps(PAYMENT)

    person = decide_when_asked(browser, server, "approve")
    approved = agentauth("request", "POST", "/api/v1/payments/", "--json", body, **agent)
    person.join()
    person = decide_when_asked(browser, server, "deny")
    denied = agentauth("request", "post", f"{server}/api/v1/payments/", "--json", body, **agent)
    person.join()
    listed = agentauth("approvals", "--json", **agent)

    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout) == {"payment_id": Payment.objects.get().pk}
    first = ApprovalRequest.objects.get(payment__isnull=False)
    assert f"approval {first.pk}: pending" in approved.stderr and f"approval {first.pk}: executed" in approved.stderr
    assert denied.returncode == 3 and "Denied: The person denied the request: No." in denied.stderr
    assert [(entry["status"], entry["action"]) for entry in json.loads(listed.stdout)] == [
        ("denied", "payments.create"),
        ("executed", "payments.create"),
    ]


def test_login_uses_the_device_flow_in_the_browser_and_stores_the_token_privately(
    server, device_agent, person, tmp_path
):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} {HERE / "person_browser.py"} "$1"\n')
    browser.chmod(0o755)
    agent = {
        "AGENTAUTH_ISSUER": server,
        "AGENTAUTH_CLIENT_ID": device_agent.client_id,
        "AGENTAUTH_CONFIG_DIR": str(tmp_path / "config"),
        "BROWSER": str(browser),
        "SDK_TEST_OPENED": str(opened),
        "SDK_TEST_ALLOW": "documents:read payments:read",
    }

    logged_in = agentauth("login", "--scope", "documents:read payments:read", **agent)
    stored = tmp_path / "config" / "credentials.json"
    token = agentauth("token", **agent)
    whoami = agentauth("whoami", **agent)
    documents = agentauth("request", "GET", "/api/v1/documents/", **agent)

    assert logged_in.returncode == 0, logged_in.stderr
    assert "enter the code" in logged_in.stderr
    assert opened.read_text().startswith(f"{server}/device/?user_code=")  # the browser got the complete URL
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    saved = json.loads(stored.read_text())
    assert saved["client_id"] == device_agent.client_id and saved["token"]["refresh_token"]
    assert token.returncode == 0 and token.stdout.strip() == saved["token"]["access_token"]
    claims = json.loads(whoami.stdout)["claims"]
    assert claims["client_id"] == device_agent.client_id and claims["sub"] == str(person.pk)
    assert claims["scope"] == "documents:read payments:read"
    assert documents.returncode == 0 and "results" in json.loads(documents.stdout)
    assert person.username == PERSON
