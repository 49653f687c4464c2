"""`Client`: a thin blocking shim that runs `_protocol` over httpx (`AsyncClient` is its asyncio twin)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, TypeVar

import httpx

from ._settings import USER_AGENT, Settings, request_arguments
from ._steps import CurrentToken, Send, Sleep
from .errors import TransportError
from .keys import DPoPKey, PrivateKeyLike
from .models import Approval, CibaRequest, DeviceAuthorization, Result, ServerMetadata, Token

T = TypeVar("T")


class Client(Settings):
    """A blocking AgentAuth client for one agent (an OAuth client); safe to share between threads.

    Args:
        issuer: the AgentAuth server's issuer URL, e.g. "https://auth.example.com".
        client_id: the agent's client id.
        client_secret: authenticate with this secret (client_secret_basic).
        private_key: or with this key (private_key_jwt, RFC 7523): PEM, a JWK (dict or JSON), or a
            `cryptography` private key. Neither: a public client (device login, then refresh).
        private_key_id: the `kid` to name in assertions, when the key itself carries none.
        dpop_key: bind tokens to this key (RFC 9449): a `DPoPKey` (`DPoPKey.generate()`), PEM or JWK.
        scope: the scopes to ask for (space-separated); default: the agent's standing grant.
        resource: the RFC 8707 resource (API identifier) tokens are for.
        token: a token to start with, such as a stored login.
        on_token: called with every new token (to store a login).
        refresh_margin: renew a token this many seconds before it expires.
        timeout: seconds before a request (other than a long-poll) gives up.
        http: an `httpx.Client` to send with (proxies, certificates, transports); closed by you.
    """

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
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ):
        super().__init__(
            issuer,
            client_id,
            client_secret=client_secret,
            private_key=private_key,
            private_key_id=private_key_id,
            dpop_key=dpop_key,
            scope=scope,
            resource=resource,
            token=token,
            on_token=on_token,
            refresh_margin=refresh_margin,
            timeout=timeout,
        )
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=self._timeout, headers={"User-Agent": USER_AGENT})
        self._lock = threading.RLock()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections (only those of an `httpx.Client` this client created)."""
        if self._owns_http:
            self._http.close()

    def _run(self, steps: Generator[Any, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = steps.throw(error) if error is not None else steps.send(value)
            except StopIteration as done:
                return done.value
            except httpx.TransportError as failure:
                raise TransportError(repr(failure)) from failure
            value, error = None, None
            if isinstance(op, Send):
                try:
                    value = self._http.request(op.method, op.url, **request_arguments(op))
                except httpx.TransportError as failure:
                    error = failure
            elif isinstance(op, Sleep):
                time.sleep(op.seconds)
            elif isinstance(op, CurrentToken):
                value = self._token(op.stale)

    def _token(self, stale: Token | None = None) -> Token:
        with self._lock:  # one renewal at a time; the others then find the fresh token
            if self._needs_renewal(stale):
                self._protocol.store(self._run(self._protocol.renew(self._protocol.token)))
            return self._protocol.token

    def metadata(self) -> ServerMetadata:
        """The server's RFC 8414 metadata (fetched once, then cached)."""
        return self._run(self._protocol.discover())

    def token(self, *, force: bool = False) -> Token:
        """The cached access token, renewed first when it expires within `refresh_margin` (or `force`):
        by its refresh token if it has one, else by client credentials."""
        return self._token(self._protocol.token if force else None)

    def client_credentials(self, *, scope: str | None = None, resource: str | None = None) -> Token:
        """A new client-credentials token for other scopes or another resource (not cached)."""
        return self._run(self._protocol.client_credentials(scope, resource))

    def exchange_token(
        self, subject_token: str, *, audience: str | None = None, resource: str | None = None, scope: str | None = None
    ) -> Token:
        """RFC 8693 token exchange: a token for `audience` (the agent it is for), no wider than
        `subject_token`, naming this agent as the actor (delegation). Not cached."""
        return self._run(
            self._protocol.exchange_token(subject_token, audience=audience, resource=resource, scope=scope)
        )

    def revoke(self, token: Token | str | None = None) -> None:
        """Revoke a token (RFC 7009): by default the cached one, refresh token included, and forget it."""
        raw = self._revocable(token)
        if raw is not None:
            self._run(self._protocol.revoke(raw))
            self._forget(raw)

    def start_device_login(self, scope: str | None = None) -> DeviceAuthorization:
        """Start a device login (RFC 8628): show the person `verification_uri` and `user_code`."""
        return self._run(self._protocol.start_device_login(scope))

    def wait_for_device_login(self, device: DeviceAuthorization) -> Token:
        """Poll until the person approves (the token is cached and returned), or raise Denied/Expired."""
        return self._run(self._protocol.wait_for_device_login(device))

    def device_login(self, scope: str | None = None, *, on_code: Callable[[DeviceAuthorization], None]) -> Token:
        """`start_device_login`, `on_code(device)` to show the code, then `wait_for_device_login`."""
        device = self.start_device_login(scope)
        on_code(device)
        return self.wait_for_device_login(device)

    def start_ciba(
        self,
        *,
        login_hint: str,
        scope: str,
        binding_message: str | None = None,
        authorization_details: list[dict[str, Any]] | None = None,
        requested_expiry: int | None = None,
    ) -> CibaRequest:
        """Ask a person through OpenID CIBA (`openid` is added to `scope`); the binding message is
        shown to them prominently, so they can tell this request from another."""
        return self._run(
            self._protocol.start_ciba(
                login_hint=login_hint,
                scope=scope,
                binding_message=binding_message,
                authorization_details=authorization_details,
                requested_expiry=requested_expiry,
            )
        )

    def wait_for_ciba(self, request: CibaRequest) -> Token:
        """Poll the token endpoint until the person decides: their token (not cached), or Denied/Expired."""
        return self._run(self._protocol.wait_for_ciba(request))

    def ciba(self, *, login_hint: str, scope: str, binding_message: str | None = None, **more: Any) -> Token:
        """`start_ciba` then `wait_for_ciba`: blocks until the person decides."""
        started = self.start_ciba(login_hint=login_hint, scope=scope, binding_message=binding_message, **more)
        return self.wait_for_ciba(started)

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        token: Token | None = None,
        idempotency_key: str | None = None,
        wait: bool = True,
        approval_timeout: float | None = None,
        on_progress: Callable[[Approval], None] | None = None,
        poll_wait: float = 30,
        retries: int = 2,
        timeout: float | None = None,
    ) -> Result:
        """Call a protected API with the agent's token, and wait for the person if it needs approval.

        `url` may be a path on the issuer. An unsafe method gets an `Idempotency-Key` (or yours),
        and keeps it on every retry after a network error, 429 or 5xx (`retries`). A 401 renews
        the token once. A `202` with a `status_url` is long-polled (`on_progress(approval)` after
        each answer; each long-poll is held up to `poll_wait` seconds) until the action ran: then
        `Result.data` is its result. Denied, Expired,
        Cancelled, ActionFailed or ApprovalTimeout (after `approval_timeout` seconds) otherwise;
        `wait=False` returns the 202 instead. Other 4xx/5xx raise APIError.
        """
        return self._run(
            self._protocol.request(
                method,
                url,
                json=json,
                params=params,
                data=data,
                content=content,
                headers=headers,
                token=token,
                idempotency_key=idempotency_key,
                wait=wait,
                approval_timeout=approval_timeout,
                on_progress=on_progress,
                poll_wait=poll_wait,
                retries=retries,
                timeout=timeout,
            )
        )

    def get(self, url: str, **options: Any) -> Result:
        """`request("GET", url, ...)`."""
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> Result:
        """`request("POST", url, ...)`."""
        return self.request("POST", url, **options)

    def wait_for_approval(
        self,
        status_url: str,
        *,
        timeout: float | None = None,
        on_progress: Callable[[Approval], None] | None = None,
        poll_wait: float = 30,
    ) -> Result:
        """Long-poll an approval's status URL until it is final (see `request`)."""
        return self._run(
            self._protocol.wait_for_approval(status_url, timeout=timeout, on_progress=on_progress, poll_wait=poll_wait)
        )

    def approval(self, approval: str) -> Approval:
        """One approval of this agent, by id or status URL, as it is now."""
        return self._run(self._protocol.approval(approval))

    def approvals(self, status: str | None = None) -> list[Approval]:
        """This agent's latest approvals for its person, newest first (optionally only one `status`)."""
        return self._run(self._protocol.approvals(status))
