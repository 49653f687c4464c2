"""What a protocol step asks its runner to do, and how it reads what comes back.

A step of `_protocol` yields `Send` (an HTTP request; it receives the `httpx.Response`, or an
`httpx.TransportError` thrown in), `Sleep` (it receives None) or `CurrentToken` (it receives the
cached `Token`, renewed under the client's lock when due). The helpers below turn a response into
its body or the error it carries, and decide how long to wait before trying again.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from .errors import APIError, OAuthError
from .models import Token

MAX_BACKOFF = 30.0

T = TypeVar("T")
Steps = Generator[Any, Any, T]


@dataclass
class Send:
    """Perform this HTTP request and send back the `httpx.Response`."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    timeout: float | None = None


@dataclass
class Sleep:
    seconds: float


@dataclass
class CurrentToken:
    """Send back the cached token, renewed when it expires soon or when it is `stale` (refused)."""

    stale: Token | None = None


def backoff(attempt: int, base: float = 0.5) -> float:
    """Exponential backoff with full jitter, capped."""
    return random.uniform(0, min(MAX_BACKOFF, base * 2**attempt))  # noqa: S311 - jitter, not a secret


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return min(float(value), MAX_BACKOFF) if value.isdigit() else None


def body_of(response: httpx.Response) -> Any:
    """The response's JSON, or its text when it is not JSON."""
    if "json" in response.headers.get("Content-Type", ""):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


def oauth_error(response: httpx.Response) -> OAuthError:
    body = body_of(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return OAuthError(body["error"], body.get("error_description"), status_code=response.status_code)
    return OAuthError("server_error", f"HTTP {response.status_code}", status_code=response.status_code)


def api_error(response: httpx.Response) -> APIError:
    body = body_of(response)
    error = body.get("error") if isinstance(body, dict) else None
    description = body.get("error_description") or body.get("detail") if isinstance(body, dict) else None
    return APIError(response.status_code, body, error=error, description=description)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
