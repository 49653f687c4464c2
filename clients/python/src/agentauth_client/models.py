"""The typed values the client hands back: tokens, device and CIBA requests, approvals, results."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import ConfigurationError

FINAL_STATUSES = frozenset({"executed", "denied", "expired", "cancelled", "failed"})


@dataclass(frozen=True)
class ServerMetadata:
    """The authorization server's RFC 8414 metadata document."""

    raw: Mapping[str, Any]

    @property
    def issuer(self) -> str:
        return self.raw["issuer"]

    @property
    def token_endpoint(self) -> str:
        return self.endpoint("token_endpoint")

    @property
    def jwks_uri(self) -> str:
        return self.endpoint("jwks_uri")

    def endpoint(self, name: str) -> str:
        """The URL the metadata gives for `name` (e.g. "device_authorization_endpoint"), or ConfigurationError."""
        value = self.raw.get(name)
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"The server does not advertise {name}.")
        return value


@dataclass(frozen=True)
class Token:
    """An access token (and its refresh token, if any) from the token endpoint."""

    access_token: str
    token_type: str = "Bearer"
    expires_at: float | None = None  # seconds since the epoch
    refresh_token: str | None = None
    scope: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # never print secrets by accident
        return f"Token(token_type={self.token_type!r}, scope={self.scope!r}, expires_at={self.expires_at!r})"

    @classmethod
    def from_response(cls, body: Mapping[str, Any], *, previous: Token | None = None) -> Token:
        expires_in = body.get("expires_in")
        return cls(
            access_token=body["access_token"],
            token_type=body.get("token_type") or "Bearer",
            expires_at=time.time() + float(expires_in) if isinstance(expires_in, int | float) else None,
            # RFC 6749 §6: a refresh answer without a new refresh token keeps the old one.
            refresh_token=body.get("refresh_token") or (previous.refresh_token if previous else None),
            scope=body.get("scope") or (previous.scope if previous else None),
            raw=dict(body),
        )

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset((self.scope or "").split())

    @property
    def is_dpop(self) -> bool:
        return self.token_type.lower() == "dpop"

    def expires_within(self, seconds: float) -> bool:
        """Whether the token is expired, or will be within `seconds` (unknown lifetimes never expire here)."""
        return self.expires_at is not None and time.time() + seconds >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for storing a login (see `Token.from_dict`)."""
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token,
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        return cls(
            access_token=data["access_token"],
            token_type=data.get("token_type") or "Bearer",
            expires_at=data.get("expires_at"),
            refresh_token=data.get("refresh_token"),
            scope=data.get("scope"),
        )


@dataclass(frozen=True)
class DeviceAuthorization:
    """RFC 8628 §3.2: what to show the person, and the code to poll with."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_at: float
    interval: float

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> DeviceAuthorization:
        return cls(
            device_code=body["device_code"],
            user_code=body["user_code"],
            verification_uri=body["verification_uri"],
            verification_uri_complete=body.get("verification_uri_complete"),
            expires_at=time.time() + float(body.get("expires_in", 600)),
            interval=float(body.get("interval", 5)),
        )


@dataclass(frozen=True)
class CibaRequest:
    """OpenID CIBA §7.3: the id of a backchannel request and how often to poll for it."""

    auth_req_id: str
    expires_at: float
    interval: float

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> CibaRequest:
        return cls(
            auth_req_id=body["auth_req_id"],
            expires_at=time.time() + float(body["expires_in"]),
            interval=float(body.get("interval", 5)),
        )


@dataclass(frozen=True)
class Approval:
    """The agent's view of one approval: `status` is pending, approved, denied, expired, cancelled,
    executed (with `result`) or failed (with `reason`)."""

    id: str
    status: str
    status_url: str | None = None
    expires_at: datetime | None = None
    interval: float | None = None
    action: str | None = None
    reason: str | None = None
    result: Any = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, body: Mapping[str, Any], *, status_url: str | None = None) -> Approval:
        expires = body.get("expires_at")
        return cls(
            id=str(body["approval_id"]),
            status=body["status"],
            status_url=body.get("status_url") or status_url,
            expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
            interval=float(body["interval"]) if isinstance(body.get("interval"), int | float) else None,
            action=body.get("action"),
            reason=body.get("reason") or None,
            result=body.get("result"),
            raw=dict(body),
        )

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def seconds_left(self) -> float | None:
        return None if self.expires_at is None else max(0.0, self.expires_at.timestamp() - time.time())


@dataclass(frozen=True)
class Result:
    """What `Client.request` returns: the API's answer, or the outcome of the approval it waited for.

    `data` is the response's JSON (or text); after an approval it is the executed action's `result`,
    and `approval` is set. `status_code` is that of the last response read (the status URL's 200
    after an approval)."""

    status_code: int
    data: Any
    headers: Mapping[str, str]
    approval: Approval | None = None

    def json(self) -> Any:
        return self.data
