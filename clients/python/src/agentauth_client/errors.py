"""Every exception the client raises derives from `AgentAuthError`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Approval


class AgentAuthError(Exception):
    """Base class of everything this package raises."""


class ConfigurationError(AgentAuthError):
    """The client was set up in a way that cannot work (no credentials, a bad key, an issuer mismatch)."""


class LoginRequired(AgentAuthError):
    """A public client has no usable token: run the device login (`agentauth login`) first."""


class TransportError(AgentAuthError):
    """The server could not be reached, or did not answer in time, after the retries allowed."""


class OAuthError(AgentAuthError):
    """An OAuth endpoint answered with an error (RFC 6749 §5.2): `error` is its code."""

    def __init__(self, error: str, description: str | None = None, *, status_code: int | None = None):
        self.error = error
        self.description = description
        self.status_code = status_code
        super().__init__(f"{error}: {description}" if description else error)


class APIError(AgentAuthError):
    """A protected API refused the call (a 4xx, or a 5xx left after the retries)."""

    def __init__(self, status_code: int, body: Any, *, error: str | None = None, description: str | None = None):
        self.status_code = status_code
        self.body = body
        self.error = error
        self.description = description
        detail = f"{error}: {description}" if error and description else error or (str(body)[:200] if body else "")
        super().__init__(f"HTTP {status_code} {detail}".rstrip())


class ApprovalError(AgentAuthError):
    """An action, login or CIBA request that needed its person did not go through.

    `approval` is the approval as last seen (None for device logins and CIBA requests); `reason`
    is the person's or the server's explanation, when there is one."""

    def __init__(self, message: str, *, approval: Approval | None = None, reason: str | None = None):
        self.approval = approval
        self.reason = reason if reason is not None else (approval.reason if approval is not None else None)
        super().__init__(f"{message}: {self.reason}" if self.reason else message)


class Denied(ApprovalError):
    """The person said no (an approval, a CIBA request or a device code). `reason` is theirs, if given."""


class Expired(ApprovalError):
    """Nobody decided before the request expired."""


class Cancelled(ApprovalError):
    """The request was cancelled: its grant was revoked or the agent suspended while it waited."""


class ActionFailed(ApprovalError):
    """The person approved, but the action failed when it ran; `reason` says why."""


class ApprovalTimeout(ApprovalError):
    """The client stopped waiting (`approval_timeout`); the approval itself is still open."""


class TokenError(AgentAuthError):
    """A resource server refuses a presented token; render it with `status_code` and `www_authenticate()`."""

    error = "invalid_token"
    status_code = 401
    scheme = "Bearer"

    def __init__(self, description: str, *, scheme: str | None = None):
        self.description = description
        if scheme:
            self.scheme = scheme
        super().__init__(description)

    def www_authenticate(self, *, resource_metadata: str | None = None) -> str:
        """The RFC 6750 §3 / RFC 9449 §7.1 challenge for this refusal."""
        parts = [f'error="{self.error}"', f'error_description="{_quoted(self.description)}"']
        if resource_metadata:
            parts.append(f'resource_metadata="{_quoted(resource_metadata)}"')
        return f"{self.scheme} " + ", ".join(parts)


class InvalidToken(TokenError):
    """Missing, malformed, expired, wrongly signed, for another audience or issuer, or sent with the wrong scheme."""


class InsufficientScope(TokenError):
    """The token is good but lacks a scope this call needs (answer 403)."""

    error = "insufficient_scope"
    status_code = 403

    def __init__(self, description: str, *, required: tuple[str, ...] = (), scheme: str | None = None):
        super().__init__(description, scheme=scheme)
        self.required = required

    def www_authenticate(self, *, resource_metadata: str | None = None) -> str:
        challenge = super().www_authenticate(resource_metadata=resource_metadata)
        return challenge + (f', scope="{" ".join(self.required)}"' if self.required else "")


class InvalidDPoPProof(TokenError):
    """A DPoP-bound token came without a valid proof for this request and this key (RFC 9449)."""

    error = "invalid_dpop_proof"
    scheme = "DPoP"


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
