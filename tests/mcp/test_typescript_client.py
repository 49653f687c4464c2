"""The official MCP TypeScript SDK client, unmodified, against AgentAuth in production mode:
discovery → dynamic registration as a public client (no initial access token needed for one) →
the person's consent in a real browser → a token for the MCP server → a tool call."""

import json
import shutil
import subprocess
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import sync_playwright

from agentauth.identity.models import Agent

from ..browser.conftest import CHROMIUM_ARGS
from ..conftest import missing_service
from ..factories import PASSWORD
from ..servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CLIENT = Path(__file__).resolve().parents[1] / "strict" / "mcp_client.mjs"


def test_the_official_typescript_client_registers_consents_and_calls_a_tool(stack, person, monkeypatch):
    if not shutil.which("node") or not (CLIENT.parent / "node_modules" / "@modelcontextprotocol").exists():
        missing_service("node and `npm ci` in tests/strict are needed for the MCP TypeScript SDK")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API keeps a loop here
    issuer, mcp_url, _ = stack
    callback = f"http://localhost:{free_port()}/callback"
    node = subprocess.Popen(  # noqa: S603
        ["node", str(CLIENT), mcp_url, callback], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        asked = json.loads(node.stdout.readline())
        assert "authorize" in asked, asked
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            landed = []
            page.route(f"{callback}**", lambda route: (landed.append(route.request.url), route.fulfill(body="ok")))
            page.goto(asked["authorize"])
            page.fill("#id_username", "mia")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("text=wants to act for you")
            for box in page.locator("input[name=scope]").all():
                box.check()  # the tool server needs both; payments:execute is off until turned on
            page.click("button[name=allow]")
            for _ in range(100):
                if landed:
                    break
                page.wait_for_timeout(100)
            browser.close()
        node.stdin.write(json.dumps({"callback": landed[0]}) + "\n")
        node.stdin.flush()
        result = json.loads(node.stdout.readline())
    finally:
        node.kill()
        node.wait(timeout=10)

    assert "error" not in result, result.get("error")
    assert set(result["tools"]) == {"list_documents", "pay"}
    assert "Lease agreement" in json.dumps(result["documents"])
    claims = jwt.decode(result["token"], options={"verify_signature": False})
    assert claims["aud"] == mcp_url and set(claims["scope"].split()) == {"documents:read", "payments:execute"}
    agent = Agent.objects.get(client_id=claims["client_id"])
    assert agent.registration_source == "dcr" and not agent.verified and agent.client_type == Agent.CLIENT_PUBLIC
