"""What `Client` and `AsyncClient` share: their settings, and how a `Send` step becomes httpx arguments."""

from __future__ import annotations

from typing import Any

from . import __version__
from ._protocol import Protocol
from ._steps import Send
from .keys import DPoPKey
from .models import Token

USER_AGENT = f"agentauth-client/{__version__} (python; httpx)"


def request_arguments(op: Send) -> dict[str, Any]:
    arguments: dict[str, Any] = {"headers": op.headers, "params": op.params}
    if op.data is not None:
        arguments["data"] = op.data
    if op.json is not None:
        arguments["json"] = op.json
    if op.content is not None:
        arguments["content"] = op.content
    if op.timeout is not None:
        arguments["timeout"] = op.timeout
    return arguments


class Settings:
    """What both clients are built from; see `Client` for the arguments (`Protocol` takes them all
    but `timeout`)."""

    def __init__(self, issuer: str, client_id: str, *, timeout: float, **options: Any):
        self._protocol = Protocol(issuer, client_id, **options)
        self._timeout = timeout

    @property
    def issuer(self) -> str:
        return self._protocol.issuer

    @property
    def client_id(self) -> str:
        return self._protocol.client_id

    @property
    def dpop_key(self) -> DPoPKey | None:
        return self._protocol.dpop_key

    @property
    def current_token(self) -> Token | None:
        """The cached token, as it is (None before the first call); `token()` renews it when due."""
        return self._protocol.token

    def _revocable(self, token: Token | str | None) -> str | None:
        target = token or self._protocol.token
        if target is None or isinstance(target, str):
            return target
        return target.refresh_token or target.access_token

    def _forget(self, raw: str) -> None:
        current = self._protocol.token
        if current is not None and raw in (current.access_token, current.refresh_token):
            self._protocol.token = None

    def _needs_renewal(self, stale: Token | None) -> bool:
        token = self._protocol.token
        return token is None or token is stale or token.expires_within(self._protocol.refresh_margin)
