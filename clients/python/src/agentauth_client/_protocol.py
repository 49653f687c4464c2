"""The protocol, once, without I/O: generators that yield what they need done and get the answer back.

Each flow yields the steps of `_steps` (`Send`, `Sleep`, `CurrentToken`) and receives their
results. `Client` and `AsyncClient` only perform those three things, one blocking and one with
`await`, so both run exactly this code.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from ._steps import (
    MAX_BACKOFF,
    CurrentToken,
    Send,
    Sleep,
    Steps,
    api_error,
    backoff,
    body_of,
    oauth_error,
    origin,
    retry_after,
)
from .errors import (
    ActionFailed,
    AgentAuthError,
    ApprovalTimeout,
    Cancelled,
    ConfigurationError,
    Denied,
    Expired,
    LoginRequired,
    OAuthError,
    TransportError,
)
from .keys import ASSERTION_TYPE, DPoPKey, PrivateKeyLike, SigningKey
from .models import Approval, CibaRequest, DeviceAuthorization, Result, ServerMetadata, Token

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LONG_POLL_SECONDS = 30  # the server holds a status request at most this long
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5 and CIBA §11: slow_down adds five seconds
APPROVAL_GRACE = 60  # how long past an approval's expiry to keep asking, by default
NOT_SET: Any = object()


class Protocol:
    """Configuration, caches and every flow as a generator; see the module docstring."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        private_key: PrivateKeyLike | None = None,
        private_key_id: str | None = None,
        dpop_key: DPoPKey | PrivateKeyLike | None = None,
        scope: str | None = None,
        resource: str | None = None,
        token: Token | None = None,
        on_token: Callable[[Token], None] | None = None,
        refresh_margin: float = 30.0,
    ):
        if not issuer or not client_id:
            raise ConfigurationError("Both issuer and client_id are needed.")
        if client_secret is not None and private_key is not None:
            raise ConfigurationError("Give client_secret or private_key, not both.")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.private_key = SigningKey(private_key, kid=private_key_id) if private_key is not None else None
        if dpop_key is not None and not isinstance(dpop_key, DPoPKey):
            dpop_key = DPoPKey(dpop_key)
        self.dpop_key: DPoPKey | None = dpop_key
        self.scope = scope
        self.resource = resource
        self.token = token
        self.on_token = on_token
        self.refresh_margin = refresh_margin
        self.metadata: ServerMetadata | None = None
        self._nonces: dict[str, str] = {}  # origin -> the last DPoP-Nonce it sent

    @property
    def confidential(self) -> bool:
        return self.client_secret is not None or self.private_key is not None

    def store(self, token: Token) -> Token:
        self.token = token
        if self.on_token is not None:
            self.on_token(token)
        return token

    def url(self, url: str) -> str:
        """An absolute URL: a path is taken relative to the issuer."""
        return url if urlsplit(url).scheme else urljoin(self.issuer + "/", url.lstrip("/"))

    # Discovery (RFC 8414)

    def discover(self) -> Steps[ServerMetadata]:
        if self.metadata is not None:
            return self.metadata
        url = self.issuer + "/.well-known/oauth-authorization-server"
        response = yield Send("GET", url, headers={"Accept": "application/json"})
        body = body_of(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise ConfigurationError(f"No authorization server metadata at {url} (HTTP {response.status_code}).")
        if body.get("issuer") != self.issuer:  # RFC 8414 §3.3: it must name itself exactly
            raise ConfigurationError(f"The metadata names issuer {body.get('issuer')!r}, not {self.issuer!r}.")
        self.metadata = ServerMetadata(body)
        return self.metadata

    # The token endpoint and its neighbours

    def _client_authentication(self, form: dict[str, Any]) -> dict[str, str]:
        """Authenticate as the client: Basic for a secret, an RFC 7523 assertion for a key, else client_id."""
        headers = {"Accept": "application/json"}
        if self.client_secret is not None:
            # RFC 6749 §2.3.1: both halves form-urlencoded before they are joined.
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif self.private_key is not None:
            assertion = self.private_key.client_assertion(self.client_id, self.issuer)
            form |= {
                "client_id": self.client_id,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            }
        else:
            form["client_id"] = self.client_id
        return headers

    def post_form(self, endpoint: str, form: Mapping[str, Any], *, dpop: bool = False) -> Steps[httpx.Response]:
        """POST to the endpoint the metadata names, authenticated; with a DPoP proof when `dpop`
        and a key, answering one `use_dpop_nonce` with the nonce the server sent."""
        metadata = yield from self.discover()
        url = metadata.endpoint(endpoint)
        for attempt in range(2):
            body = {name: value for name, value in form.items() if value is not None}
            headers = self._client_authentication(body)
            if dpop and self.dpop_key is not None:
                headers["DPoP"] = self.dpop_key.proof("POST", url, nonce=self._nonces.get(origin(url)))
            try:
                response = yield Send("POST", url, headers=headers, data=body)
            except httpx.TransportError as error:
                raise TransportError(f"{url}: {error!r}") from error
            self.remember_nonce(url, response)
            wants_nonce = response.status_code in (400, 401) and "DPoP-Nonce" in response.headers
            if attempt == 0 and dpop and self.dpop_key is not None and wants_nonce:
                continue
            return response
        return response

    def token_grant(self, form: Mapping[str, Any], previous: Token | None = None) -> Steps[Token]:
        response = yield from self.post_form("token_endpoint", form, dpop=True)
        body = body_of(response)
        if response.status_code == 200 and isinstance(body, dict) and "access_token" in body:
            return Token.from_response(body, previous=previous)
        raise oauth_error(response)

    def client_credentials(self, scope: str | None = None, resource: str | None = None) -> Steps[Token]:
        form = {"grant_type": "client_credentials", "scope": scope, "resource": resource}
        return (yield from self.token_grant(form))

    def refresh(self, token: Token, scope: str | None = None) -> Steps[Token]:
        if not token.refresh_token:
            raise LoginRequired("This token has no refresh token.")
        form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token, "scope": scope}
        return (yield from self.token_grant(form, previous=token))

    def renew(self, current: Token | None) -> Steps[Token]:
        """A fresh token: by refresh token when there is one, else by client credentials."""
        if current is not None and current.refresh_token:
            try:
                return (yield from self.refresh(current))
            except OAuthError as error:
                if error.error != "invalid_grant":
                    raise
                if not self.confidential:
                    raise LoginRequired("The login expired or was revoked: log in again.") from error
        if not self.confidential:
            raise LoginRequired("A public client needs a login first (device flow: `agentauth login`).")
        return (yield from self.client_credentials(self.scope, self.resource))

    def exchange_token(
        self,
        subject_token: str,
        *,
        audience: str | None = None,
        resource: str | None = None,
        scope: str | None = None,
    ) -> Steps[Token]:
        form = {
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": subject_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "audience": audience,
            "resource": resource,
            "scope": scope,
        }
        return (yield from self.token_grant(form))

    def revoke(self, token: str, token_type_hint: str | None = None) -> Steps[None]:
        response = yield from self.post_form(
            "revocation_endpoint", {"token": token, "token_type_hint": token_type_hint}
        )
        if response.status_code != 200:
            raise oauth_error(response)

    # Device flow (RFC 8628) and CIBA: ask a person, then poll the token endpoint

    def start_device_login(self, scope: str | None = None) -> Steps[DeviceAuthorization]:
        response = yield from self.post_form("device_authorization_endpoint", {"scope": scope or self.scope})
        if response.status_code != 200:
            raise oauth_error(response)
        return DeviceAuthorization.from_response(response.json())

    def wait_for_device_login(self, device: DeviceAuthorization) -> Steps[Token]:
        form = {"grant_type": DEVICE_GRANT, "device_code": device.device_code}
        token = yield from self._poll_token(form, device.interval, device.expires_at, "device login")
        return self.store(token)

    def start_ciba(
        self,
        *,
        login_hint: str,
        scope: str,
        binding_message: str | None = None,
        authorization_details: list[dict[str, Any]] | None = None,
        requested_expiry: int | None = None,
    ) -> Steps[CibaRequest]:
        scopes = scope.split()
        form = {
            "scope": " ".join(scopes if "openid" in scopes else ["openid", *scopes]),  # CIBA §7.1 needs openid
            "login_hint": login_hint,
            "binding_message": binding_message,
            "authorization_details": json.dumps(authorization_details) if authorization_details else None,
            "requested_expiry": str(requested_expiry) if requested_expiry else None,
        }
        response = yield from self.post_form("backchannel_authentication_endpoint", form)
        if response.status_code != 200:
            raise oauth_error(response)
        return CibaRequest.from_response(response.json())

    def wait_for_ciba(self, request: CibaRequest) -> Steps[Token]:
        form = {"grant_type": CIBA_GRANT, "auth_req_id": request.auth_req_id}
        return (yield from self._poll_token(form, request.interval, request.expires_at, "CIBA request"))

    def _poll_token(self, form: Mapping[str, Any], interval: float, expires_at: float, what: str) -> Steps[Token]:
        """Poll until the person decides: authorization_pending waits, slow_down adds 5 s."""
        while True:
            if time.time() >= expires_at:
                raise Expired(f"The {what} expired before anyone approved it")
            yield Sleep(interval)
            response = yield from self.post_form("token_endpoint", form, dpop=True)
            body = body_of(response)
            if response.status_code == 200 and isinstance(body, dict) and "access_token" in body:
                return Token.from_response(body)
            error = oauth_error(response)
            if error.error == "authorization_pending":
                continue
            if error.error == "slow_down":
                interval = max(interval + SLOW_DOWN_STEP, retry_after(response) or 0)
            elif error.error == "access_denied":
                raise Denied(f"The person denied the {what}", reason=error.description)
            elif error.error == "expired_token":
                raise Expired(f"The {what} expired before anyone approved it")
            else:
                raise error

    # Calls to protected APIs, and approvals

    def remember_nonce(self, url: str, response: httpx.Response) -> None:
        """RFC 9449 §8.2: a server may hand out a fresh nonce on any response."""
        nonce = response.headers.get("DPoP-Nonce")
        if nonce:
            self._nonces[origin(url)] = nonce

    def authorization(self, token: Token, method: str, url: str) -> dict[str, str]:
        """The headers that present `token` for this request: Bearer, or DPoP with a fresh proof."""
        if not token.is_dpop:
            return {"Authorization": f"Bearer {token.access_token}"}
        if self.dpop_key is None:
            raise ConfigurationError("A DPoP-bound token needs the client's dpop_key to be used.")
        proof = self.dpop_key.proof(method, url, access_token=token.access_token, nonce=self._nonces.get(origin(url)))
        return {"Authorization": f"DPoP {token.access_token}", "DPoP": proof}

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        token: Token | None = None,
        idempotency_key: str | None = None,
        retries: int = 2,
        timeout: float | None = None,
    ) -> Steps[httpx.Response]:
        """Send one API request with the token; retry network errors and 429/5xx (unsafe methods
        keep their Idempotency-Key), renew a refused token once, answer a DPoP nonce challenge once."""
        method, url = method.upper(), self.url(url)
        headers = dict(headers or {})
        if method not in SAFE_METHODS and not any(name.lower() == "idempotency-key" for name in headers):
            headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        attempt, renewed, nonce_answered, stale = 0, False, False, None
        while True:
            current = token if token is not None else (yield CurrentToken(stale=stale))
            stale = None
            sent = headers | self.authorization(current, method, url)
            try:
                response = yield Send(method, url, sent, params, data, json, content, timeout)
            except httpx.TransportError as error:
                if attempt >= retries:
                    raise TransportError(f"{method} {url}: {error!r}") from error
                attempt += 1
                yield Sleep(backoff(attempt))
                continue
            self.remember_nonce(url, response)
            if response.status_code == 401:
                challenge = response.headers.get("WWW-Authenticate", "")
                if current.is_dpop and "use_dpop_nonce" in challenge and not nonce_answered:
                    nonce_answered = True
                    continue
                if token is None and not renewed:
                    renewed, stale = True, current
                    continue
            if response.status_code in RETRY_STATUSES and attempt < retries:
                attempt += 1
                yield Sleep(retry_after(response) or backoff(attempt))
                continue
            return response

    def request(
        self,
        method: str,
        url: str,
        *,
        wait: bool = True,
        approval_timeout: float | None = None,
        on_progress: Callable[[Approval], None] | None = None,
        poll_wait: float = LONG_POLL_SECONDS,
        **options: Any,
    ) -> Steps[Result]:
        """`call`, then: 4xx/5xx raise APIError; a 202 with a `status_url` waits for the person."""
        response = yield from self.call(method, url, **options)
        if response.status_code >= 400:
            raise api_error(response)
        body = body_of(response)
        if response.status_code == 202 and isinstance(body, dict) and body.get("status_url"):
            approval = Approval.from_response(body)
            if on_progress is not None:
                on_progress(approval)
            if wait:
                return (
                    yield from self.wait_for_approval(
                        body["status_url"],
                        approval=approval,
                        timeout=approval_timeout,
                        on_progress=on_progress,
                        token=options.get("token"),
                        poll_wait=poll_wait,
                    )
                )
            return Result(response.status_code, body, response.headers, approval)
        return Result(response.status_code, body, response.headers)

    def wait_for_approval(
        self,
        status_url: str,
        *,
        approval: Approval | None = None,
        timeout: float | None = None,
        on_progress: Callable[[Approval], None] | None = None,
        token: Token | None = None,
        poll_wait: float = LONG_POLL_SECONDS,
    ) -> Steps[Result]:
        """Long-poll `status_url` until the approval is final: the executed result, or a typed error.
        Each status request may be held `poll_wait` seconds (at most 30, the server's limit)."""
        status_url = self.url(status_url)
        if timeout is not None:
            deadline = time.monotonic() + timeout
        elif approval is not None and approval.seconds_left() is not None:
            deadline = time.monotonic() + approval.seconds_left() + APPROVAL_GRACE
        else:
            deadline = None
        pause = approval.interval if approval is not None and approval.interval else 2.0
        last = approval.status if approval is not None else None
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise ApprovalTimeout("Stopped waiting for the approval", approval=approval)
            hold = max(1, int(min(poll_wait, LONG_POLL_SECONDS, LONG_POLL_SECONDS if remaining is None else remaining)))
            asked = time.monotonic()
            response = yield from self.call(
                "GET", status_url, params={"wait": hold}, token=token, timeout=hold + 15, retries=5
            )
            if response.status_code != 200:
                raise api_error(response)
            approval = Approval.from_response(response.json(), status_url=status_url)
            if on_progress is not None:
                on_progress(approval)
            if approval.is_final:
                return outcome(approval, response)
            if approval.status == last and time.monotonic() - asked < 1:
                # Answered at once without news (no long-polling there): back off, never spin.
                yield Sleep(pause if remaining is None else min(pause, max(remaining, 0)))
                pause = min(pause * 1.5, MAX_BACKOFF)
            last = approval.status

    def approvals(self, status: str | None = None) -> Steps[list[Approval]]:
        response = yield from self.call("GET", "/api/v1/approvals/", params={"status": status} if status else None)
        if response.status_code != 200:
            raise api_error(response)
        return [Approval.from_response(item) for item in response.json()["results"]]

    def approval(self, approval: str) -> Steps[Approval]:
        url = approval if "/" in approval else f"/api/v1/approvals/{quote(approval, safe='')}"
        response = yield from self.call("GET", url)
        if response.status_code != 200:
            raise api_error(response)
        return Approval.from_response(response.json(), status_url=self.url(url))


OUTCOMES: dict[str, tuple[type[AgentAuthError], str]] = {
    "denied": (Denied, "The person denied the request"),
    "expired": (Expired, "Nobody decided before the request expired"),
    "cancelled": (Cancelled, "The request was cancelled"),
    "failed": (ActionFailed, "The approved action failed"),
}


def outcome(approval: Approval, response: httpx.Response) -> Result:
    if approval.status == "executed":
        return Result(response.status_code, approval.result, response.headers, approval)
    error, message = OUTCOMES[approval.status]
    raise error(message, approval=approval)
