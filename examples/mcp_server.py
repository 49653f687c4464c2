"""An MCP tool server protected by AgentAuth, on the official `mcp` Python SDK.

`make mcp-example` serves it at http://127.0.0.1:8010/mcp (MCP_PORT, MCP_RESOURCE). MCP clients
discover AgentAuth from its RFC 9728 document, get the person's consent, and call its tools with a
token whose `aud` is this server. Tokens are checked offline against AgentAuth's JWKS (signature,
issuer, audience, expiry, scopes) by the agent SDK's `AsyncTokenVerifier`: no database access on
the way in. Two tools:

- `list_documents` (documents:read) reads the person's documents;
- `pay` (payments:execute) asks the person first, through the same approval as the payments API:
  it shows up live in their portal and on their phone, and the tool returns once they decide and
  the payment has run (exactly once).
"""

import asyncio
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentauth.settings")
django.setup()

from agentauth_client import AsyncTokenVerifier, TokenError, TransportError  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from mcp.server.auth.middleware.auth_context import get_access_token  # noqa: E402
from mcp.server.auth.provider import AccessToken, TokenVerifier  # noqa: E402
from mcp.server.auth.settings import AuthSettings  # noqa: E402
from mcp.server.mcpserver import MCPServer  # noqa: E402

from agentauth.identity.models import Agent, ResourceServer  # noqa: E402
from agentauth.identity.resources import normalise  # noqa: E402
from approvals import services  # noqa: E402
from approvals.models import ApprovalRequest  # noqa: E402

from .models import Document  # noqa: E402
from .payments import PAY  # noqa: E402

PORT = int(os.getenv("MCP_PORT", "8010"))
RESOURCE = os.getenv("MCP_RESOURCE", f"http://127.0.0.1:{PORT}/mcp")
SCOPES = ["documents:read", "payments:execute"]


class AgentAuthTokens(TokenVerifier):
    """RFC 9068 access tokens from AgentAuth, verified offline by the agent SDK's resource-server
    helper (`agentauth_client.AsyncTokenVerifier`): its JWKS, fetched and cached; issuer, this
    server as audience, expiry, `typ: at+jwt`."""

    def __init__(self):
        self.verifier = AsyncTokenVerifier(settings.AGENTAUTH_ISSUER, audience=RESOURCE)

    async def verify_token(self, token):
        try:
            claims = await self.verifier.verify_token(token)
        except (TokenError, TransportError):
            return None
        return AccessToken(
            token=token,
            client_id=claims.client_id,
            scopes=str(claims.raw.get("scope", "")).split(),
            expires_at=claims.expires_at,
            resource=RESOURCE,
            subject=claims.subject,
            claims=dict(claims.raw),
        )


mcp = MCPServer(
    "AgentAuth example tools",
    token_verifier=AgentAuthTokens(),
    auth=AuthSettings(
        issuer_url=settings.AGENTAUTH_ISSUER,  # a str: pydantic would add a slash, and clients compare
        resource_server_url=RESOURCE,
        required_scopes=SCOPES,
    ),
)


def _caller(scope):
    """(person, agent, token claims) of the verified token, which must hold `scope`."""
    token = get_access_token()
    if token is None or scope not in token.scopes:
        raise PermissionError(f"This tool needs the {scope} scope.")
    person = get_user_model().objects.get(pk=int(token.subject))
    return person, Agent.objects.get(client_id=token.client_id), token.claims


@mcp.tool()
async def list_documents() -> list[dict]:
    """The person's documents: title and first lines."""

    def read():
        person, _, _ = _caller("documents:read")
        return [
            {"id": doc.pk, "title": doc.title, "body": doc.body[:500]}
            for doc in Document.objects.filter(owner=person)[:50]
        ]

    return await sync_to_async(read)()


@mcp.tool()
async def pay(amount: str, currency: str, to: str, memo: str = "") -> dict:
    """Pay someone from the person's account. The person approves it first, in their portal or on
    their phone; this returns when they have decided and, if approved, the payment has run."""

    def ask():
        person, agent, claims = _caller("payments:execute")
        request = PAY.Request(data={"amount": amount, "currency": currency, "to": to, "memo": memo})
        request.is_valid(raise_exception=True)
        approval, _ = services.request_approval(
            user=person, agent=agent, action=PAY, params=PAY.params(request.validated_data), token_jti=claims["jti"]
        )
        return approval.pk

    approval_id = await sync_to_async(ask)()
    while True:
        approval = await ApprovalRequest.objects.aget(pk=approval_id)
        if approval.effective_status in ApprovalRequest.FINAL:
            return {"approval_id": approval.pk, "status": approval.effective_status, "result": approval.result}
        await asyncio.sleep(0.5)


def register():
    """This server as a resource server of AgentAuth (idempotent): tokens for it name it as `aud`."""
    ResourceServer.objects.get_or_create(
        match_key=normalise(RESOURCE), defaults={"identifier": RESOURCE, "name": "Example MCP tools"}
    )


if __name__ == "__main__":
    register()
    mcp.run("streamable-http", host=os.getenv("MCP_HOST", "127.0.0.1"), port=PORT)
