"""`TokenVerifier`, the resource-server helper, on tokens a live AgentAuth issued: the JWKS comes
from the live server; every refusal is one a tool server must make."""

import httpx
import pytest
from agentauth_client import (
    AsyncTokenVerifier,
    Client,
    DPoPKey,
    InsufficientScope,
    InvalidDPoPProof,
    InvalidToken,
    TokenVerifier,
)

from agentauth.identity import tokens

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_bearer_tokens_are_verified_offline_with_audience_expiry_and_scopes(server, payer, settings):
    with Client(server, payer.client_id, client_secret=payer.plain_secret) as client:
        token = client.token().access_token
    api = TokenVerifier(server, audience=f"{server}/api/")
    other_api = TokenVerifier(server, audience="https://tools.example/mcp")
    # A token the server's own code minted with its current key, already expired.
    settings.AGENTAUTH_ISSUER, settings.AGENTAUTH_API_AUDIENCE = server, f"{server}/api/"
    expired, _ = tokens.issue(user=payer.user, agent=payer, scopes=["documents:read"], lifetime=-60, grant_type="test")

    claims = api.verify(f"Bearer {token}", scopes=["documents:read", "payments:read"])

    assert claims.client_id == payer.client_id and claims.subject == str(payer.user_id)
    assert claims.scopes == {"documents:read", "payments:read", "payments:execute"} and claims.jkt is None
    with pytest.raises(InvalidToken, match="another audience") as refused:
        other_api.verify(f"Bearer {token}")
    assert refused.value.status_code == 401 and refused.value.www_authenticate().startswith(
        'Bearer error="invalid_token"'
    )
    with pytest.raises(InvalidToken, match="expired"):
        api.verify(f"Bearer {expired}")
    with pytest.raises(InsufficientScope) as lacking:
        api.verify(f"Bearer {token}", scopes=["documents:write"])
    assert lacking.value.status_code == 403 and 'scope="documents:write"' in lacking.value.www_authenticate()
    with pytest.raises(InvalidToken):
        api.verify(f"Bearer {token[:-4]}AAAA")  # a forged signature
    with pytest.raises(InvalidToken):
        api.verify(token)  # no scheme


def test_dpop_bound_tokens_need_a_fresh_proof_from_their_key(server, payer):
    key = DPoPKey.generate()
    with Client(server, payer.client_id, client_secret=payer.plain_secret, dpop_key=key) as client:
        token = client.token().access_token
    api = TokenVerifier(server, audience=f"{server}/api/")
    url = "https://tools.example/mcp/call?x=1"

    def proof(method="POST", at=url, holder=key, access_token=token):
        return holder.proof(method, at, access_token=access_token)

    def check(authorization=f"DPoP {token}", dpop=None, method="POST"):
        return api.verify(authorization, dpop=dpop, method=method, url=url)

    good = proof()
    claims = check(dpop=good)

    assert claims.jkt == key.thumbprint()
    refusals = {
        "sent as Bearer": lambda: check(authorization=f"Bearer {token}", dpop=proof()),
        "no proof": lambda: check(dpop=None),
        "replayed": lambda: check(dpop=good),
        "another method": lambda: check(dpop=proof(method="GET")),
        "another URL": lambda: check(dpop=proof(at="https://tools.example/mcp/other")),
        "another key": lambda: check(dpop=proof(holder=DPoPKey.generate())),
        "another token's ath": lambda: check(dpop=proof(access_token="something else")),
    }
    for name, attempt in refusals.items():
        with pytest.raises((InvalidDPoPProof, InvalidToken)) as refused:
            attempt()
        expected = InvalidToken if name == "sent as Bearer" else InvalidDPoPProof
        assert type(refused.value) is expected, name
    assert InvalidDPoPProof("x").www_authenticate().startswith('DPoP error="invalid_dpop_proof"')


async def test_the_async_verifier_refetches_keys_for_an_unknown_kid_at_most_so_often(server, payer):
    with Client(server, payer.client_id, client_secret=payer.plain_secret) as client:
        token = client.token().access_token
    fetched = []

    async def record(request):
        fetched.append(request)

    http = httpx.AsyncClient(event_hooks={"request": [record]})
    api = AsyncTokenVerifier(server, audience=f"{server}/api/", http=http, refetch_interval=60)
    forged_kid = DPoPKey.generate().sign({"sub": "x"}, headers={"typ": "at+jwt", "kid": "not-published"})

    assert (await api.verify_token(token)).client_id == payer.client_id
    for _ in range(3):
        with pytest.raises(InvalidToken, match="does not publish"):
            await api.verify_token(forged_kid)

    # Metadata and JWKS once; an unknown kid within refetch_interval fetches nothing more.
    assert [request.url.path for request in fetched] == [
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    ]
