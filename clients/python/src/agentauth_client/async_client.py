"""`AsyncClient`: the asyncio twin of `Client`, running the same `_protocol` over httpx."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Mapping
from typing import Any, TypeVar

import httpx

from ._settings import USER_AGENT, Settings, request_arguments
from ._steps import CurrentToken, Send, Sleep
from .errors import TransportError
from .keys import DPoPKey, PrivateKeyLike
from .models import Approval, CibaRequest, DeviceAuthorization, Result, ServerMetadata, Token

T = TypeVar("T")


class AsyncClient(Settings):
    """The asyncio twin of `Client`: the same arguments (`http` is an `httpx.AsyncClient`) and
    the same methods, each to be awaited. Safe to share between tasks of one event loop."""

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
        http: httpx.AsyncClient | None = None,
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
        self._http = http or httpx.AsyncClient(timeout=self._timeout, headers={"User-Agent": USER_AGENT})
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections (only those of an `httpx.AsyncClient` this client created)."""
        if self._owns_http:
            await self._http.aclose()

    async def _run(self, steps: Generator[Any, Any, T], *, locked: bool = False) -> T:
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
                    value = await self._http.request(op.method, op.url, **request_arguments(op))
                except httpx.TransportError as failure:
                    error = failure
            elif isinstance(op, Sleep):
                await asyncio.sleep(op.seconds)
            elif isinstance(op, CurrentToken):
                value = await self._token(op.stale, locked=locked)

    async def _token(self, stale: Token | None = None, *, locked: bool = False) -> Token:
        if locked:  # asyncio.Lock is not reentrant: the caller holds it already
            if self._needs_renewal(stale):
                self._protocol.store(await self._run(self._protocol.renew(self._protocol.token), locked=True))
            return self._protocol.token
        async with self._lock:
            return await self._token(stale, locked=True)

    async def metadata(self) -> ServerMetadata:
        """See `Client.metadata`."""
        return await self._run(self._protocol.discover())

    async def token(self, *, force: bool = False) -> Token:
        """See `Client.token`."""
        return await self._token(self._protocol.token if force else None)

    async def client_credentials(self, *, scope: str | None = None, resource: str | None = None) -> Token:
        """See `Client.client_credentials`."""
        return await self._run(self._protocol.client_credentials(scope, resource))

    async def exchange_token(
        self, subject_token: str, *, audience: str | None = None, resource: str | None = None, scope: str | None = None
    ) -> Token:
        """See `Client.exchange_token`."""
        return await self._run(
            self._protocol.exchange_token(subject_token, audience=audience, resource=resource, scope=scope)
        )

    async def revoke(self, token: Token | str | None = None) -> None:
        """See `Client.revoke`."""
        raw = self._revocable(token)
        if raw is not None:
            await self._run(self._protocol.revoke(raw))
            self._forget(raw)

    async def start_device_login(self, scope: str | None = None) -> DeviceAuthorization:
        """See `Client.start_device_login`."""
        return await self._run(self._protocol.start_device_login(scope))

    async def wait_for_device_login(self, device: DeviceAuthorization) -> Token:
        """See `Client.wait_for_device_login`."""
        return await self._run(self._protocol.wait_for_device_login(device))

    async def device_login(self, scope: str | None = None, *, on_code: Callable[[DeviceAuthorization], None]) -> Token:
        """See `Client.device_login`."""
        device = await self.start_device_login(scope)
        on_code(device)
        return await self.wait_for_device_login(device)

    async def start_ciba(
        self,
        *,
        login_hint: str,
        scope: str,
        binding_message: str | None = None,
        authorization_details: list[dict[str, Any]] | None = None,
        requested_expiry: int | None = None,
    ) -> CibaRequest:
        """See `Client.start_ciba`."""
        return await self._run(
            self._protocol.start_ciba(
                login_hint=login_hint,
                scope=scope,
                binding_message=binding_message,
                authorization_details=authorization_details,
                requested_expiry=requested_expiry,
            )
        )

    async def wait_for_ciba(self, request: CibaRequest) -> Token:
        """See `Client.wait_for_ciba`."""
        return await self._run(self._protocol.wait_for_ciba(request))

    async def ciba(self, *, login_hint: str, scope: str, binding_message: str | None = None, **more: Any) -> Token:
        """See `Client.ciba`."""
        started = await self.start_ciba(login_hint=login_hint, scope=scope, binding_message=binding_message, **more)
        return await self.wait_for_ciba(started)

    async def request(
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
        """See `Client.request`."""
        return await self._run(
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

    async def get(self, url: str, **options: Any) -> Result:
        """`request("GET", url, ...)`."""
        return await self.request("GET", url, **options)

    async def post(self, url: str, **options: Any) -> Result:
        """`request("POST", url, ...)`."""
        return await self.request("POST", url, **options)

    async def wait_for_approval(
        self,
        status_url: str,
        *,
        timeout: float | None = None,
        on_progress: Callable[[Approval], None] | None = None,
        poll_wait: float = 30,
    ) -> Result:
        """See `Client.wait_for_approval`."""
        return await self._run(
            self._protocol.wait_for_approval(status_url, timeout=timeout, on_progress=on_progress, poll_wait=poll_wait)
        )

    async def approval(self, approval: str) -> Approval:
        """See `Client.approval`."""
        return await self._run(self._protocol.approval(approval))

    async def approvals(self, status: str | None = None) -> list[Approval]:
        """See `Client.approvals`."""
        return await self._run(self._protocol.approvals(status))
