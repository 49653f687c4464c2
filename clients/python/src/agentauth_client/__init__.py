"""agentauth-client: a typed Python client for AgentAuth, the authorization server for AI agents.

`Client` / `AsyncClient` get and renew tokens (client credentials with a secret or private_key_jwt,
DPoP-bound or not, device login, CIBA, token exchange) and call APIs, waiting for the person
when an action needs their approval. `TokenVerifier` / `AsyncTokenVerifier` verify tokens
offline in a resource server. The `agentauth` command wraps the client for shells.
"""

__version__ = "0.1.0"

from .async_client import AsyncClient  # noqa: E402
from .client import Client  # noqa: E402
from .errors import (  # noqa: E402
    ActionFailed,
    AgentAuthError,
    APIError,
    ApprovalError,
    ApprovalTimeout,
    Cancelled,
    ConfigurationError,
    Denied,
    Expired,
    InsufficientScope,
    InvalidDPoPProof,
    InvalidToken,
    LoginRequired,
    OAuthError,
    TokenError,
    TransportError,
)
from .keys import DPoPKey, SigningKey  # noqa: E402
from .models import Approval, CibaRequest, DeviceAuthorization, Result, ServerMetadata, Token  # noqa: E402
from .resource import AsyncTokenVerifier, Claims, ReplayCache, TokenVerifier  # noqa: E402

__all__ = [
    "APIError",
    "ActionFailed",
    "AgentAuthError",
    "Approval",
    "ApprovalError",
    "ApprovalTimeout",
    "AsyncClient",
    "AsyncTokenVerifier",
    "Cancelled",
    "CibaRequest",
    "Claims",
    "Client",
    "ConfigurationError",
    "DPoPKey",
    "Denied",
    "DeviceAuthorization",
    "Expired",
    "InsufficientScope",
    "InvalidDPoPProof",
    "InvalidToken",
    "LoginRequired",
    "OAuthError",
    "ReplayCache",
    "Result",
    "ServerMetadata",
    "SigningKey",
    "Token",
    "TokenError",
    "TokenVerifier",
    "TransportError",
]
