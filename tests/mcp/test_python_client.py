"""The official MCP Python client, unmodified, against AgentAuth in production mode: discovery
(RFC 9728, RFC 8414) → a Client ID Metadata Document instead of registration → the person's
consent in a real browser → a token for the MCP server (RFC 8707) → tool calls, one of which
waits for the person's approval."""

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
import pytest
from mcp import ClientSession
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from playwright.async_api import async_playwright

from agentauth.identity.models import Agent
from approvals.models import ApprovalRequest
from examples.models import Payment

from ..browser.conftest import CHROMIUM_ARGS
from ..factories import PASSWORD
from ..servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Memory(TokenStorage):
    def __init__(self):
        self.tokens = self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


class Person:
    """The person at their browser: signs in when asked, consents, approves."""

    def __init__(self, page, callback):
        self.page, self.callback, self.code = page, callback, asyncio.get_running_loop().create_future()

    async def consent(self, authorization_url):
        async def caught(route):
            self.code.set_result(route.request.url)
            await route.fulfill(status=200, body="You may close this window.")

        await self.page.route(f"{self.callback}**", caught)
        await self.page.goto(authorization_url)
        await self.page.fill("#id_username", "mia")
        await self.page.fill("#id_password", PASSWORD)
        await self.page.click("button[type=submit]")
        await self.page.wait_for_selector("text=wants to act for you")
        self.consent_page = await self.page.content()
        for box in await self.page.locator("input[name=scope]").all():
            await box.check()  # payments:execute is high risk: off until the person turns it on
        await self.page.click("button[name=allow]")

    async def callback_result(self):
        query = parse_qs(urlsplit(await self.code).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query.get("iss", [None])[0])

    async def approve_when_asked(self, issuer):
        while not (
            pending := await asyncio.to_thread(lambda: ApprovalRequest.objects.filter(status="pending").first())
        ):
            await asyncio.sleep(0.2)
        await self.page.goto(f"{issuer}/approvals/{pending.pk}/")
        await self.page.click("form[data-decision-form] button[name=approve]")


def test_the_official_python_client_connects_consents_and_calls_tools(stack, person, monkeypatch):
    issuer, mcp_url, documents_host = stack
    callback = f"http://localhost:{free_port()}/callback"
    client_id = documents_host.base + "/mcp-client.json"
    documents_host.publish(
        "/mcp-client.json",
        {
            "client_id": client_id,
            "client_name": "Desk Assistant",
            "redirect_uris": [callback],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the test reads the database between awaits

    async def scenario():
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            person_at_browser = Person(await browser.new_page(), callback)
            storage = Memory()
            provider = OAuthClientProvider(
                server_url=mcp_url,
                client_metadata=OAuthClientMetadata(
                    client_name="Desk Assistant",
                    redirect_uris=[callback],
                    grant_types=["authorization_code", "refresh_token"],
                    response_types=["code"],
                    token_endpoint_auth_method="none",
                ),
                storage=storage,
                redirect_handler=person_at_browser.consent,
                callback_handler=person_at_browser.callback_result,
                client_metadata_url=client_id,
            )
            async with (
                httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(30, read=120)) as http,
                streamable_http_client(mcp_url, http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                listed = await session.call_tool("list_documents", {})
                paid, _ = await asyncio.gather(
                    session.call_tool(
                        "pay", {"amount": "25.00", "currency": "EUR", "to": "Elm Street Ltd", "memo": "Deposit"}
                    ),
                    person_at_browser.approve_when_asked(issuer),
                )
            await browser.close()
            return storage.tokens, listed, paid, person_at_browser.consent_page

    tokens, listed, paid, consent_page = asyncio.run(scenario())

    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    assert claims["aud"] == mcp_url and set(claims["scope"].split()) == {"documents:read", "payments:execute"}
    assert "Lease agreement" in listed.content[0].text
    assert '"status":"executed"' in paid.content[0].text.replace(" ", "")
    assert Payment.objects.get().to == "Elm Street Ltd"
    assert Agent.objects.get(client_id=client_id).registered_via == "cimd"
    assert "Unverified: describes itself at" in consent_page
