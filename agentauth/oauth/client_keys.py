"""private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): an agent authenticates with a JWT
signed by its own key, so it needs no shared secret at all.

The agent's public keys are registered as `jwks`, or published at `jwks_uri` (fetched through the
outbound guard and cached; an unknown `kid` refetches, at most once a minute). An assertion must
name the agent as `iss` and `sub`, this server (issuer or token endpoint) as `aud`, expire within
five minutes, and carry a `jti` never seen before. PyJWT verifies; nothing here is crypto.
"""

import logging
import time

import jwt
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from agentauth.identity import known_agents
from agentauth.identity.dpop import ALGORITHMS, PRIVATE_MEMBERS
from agentauth.identity.models import Agent
from agentauth.lib import once, outbound

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME = 300
MAX_ASSERTION_LENGTH = 8192
MAX_KEYS = 10
KEYS_CACHE_SECONDS = 300
REFETCH_SECONDS = 60


class InvalidKeys(ValueError):
    """A key set that is not a JWKS of at most ten public signing keys."""


def public_key_set(value):
    """Check a registered `jwks`: {"keys": [public JWKs]} that PyJWT can use; returns it."""
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise InvalidKeys('Expected {"keys": [...]} with at least one key.')
    if len(value["keys"]) > MAX_KEYS:
        raise InvalidKeys(f"At most {MAX_KEYS} keys.")
    for key in value["keys"]:
        if not isinstance(key, dict) or PRIVATE_MEMBERS & set(key):
            raise InvalidKeys("Only public keys belong in a key set.")
        try:
            jwt.PyJWK(key)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise InvalidKeys("A key could not be read.") from None
    return value


def authenticate(request):
    """The agent a client assertion in this oauthlib request proves to be, or None."""
    assertion = getattr(request, "client_assertion", None)
    if getattr(request, "client_assertion_type", None) != ASSERTION_TYPE or not isinstance(assertion, str):
        return None
    if len(assertion) > MAX_ASSERTION_LENGTH or assertion.count(".") != 2:
        return None
    try:
        header = jwt.get_unverified_header(assertion)
        claimed = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        if not isinstance(claimed, str) or not claimed or (request.client_id and request.client_id != claimed):
            return None
        agent = known_agents.get(claimed)
        claims = _verified(assertion, header, agent)
    except (Agent.DoesNotExist, jwt.PyJWTError, ValueError, TypeError, KeyError, OSError) as error:
        log.info("client assertion refused: %s", error)
        return None
    if claims is None or claims["sub"] != agent.client_id or claims["exp"] > time.time() + MAX_LIFETIME:
        return None
    return agent if _first_use(agent, claims) else None


def _verified(assertion, header, agent):
    audience = [settings.AGENTAUTH_ISSUER, settings.AGENTAUTH_ISSUER + reverse("oauth2_provider:token")]
    for key in _keys(agent, header.get("kid")):
        try:
            return jwt.decode(
                assertion,
                jwt.PyJWK(key).key,
                algorithms=[header.get("alg")] if header.get("alg") in ALGORITHMS else [],
                audience=audience,
                issuer=agent.client_id,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.InvalidSignatureError:
            continue
    return None


def _keys(agent, kid):
    """The agent's keys that may have signed (those with this kid, or all when it names none)."""
    keys = _key_set(agent, refetch=False)
    if kid and not any(key.get("kid") == kid for key in keys):
        keys = _key_set(agent, refetch=True)  # rotated at the agent's side since we cached it
    return [key for key in keys if not kid or key.get("kid") == kid]


def _key_set(agent, refetch):
    if agent.jwks:
        return agent.jwks["keys"]
    if not agent.jwks_uri:
        return []
    cache_key = f"agentauth:client-keys:{agent.client_id}"
    cached = cache.get(cache_key)
    if cached and (not refetch or time.time() - cached["at"] < REFETCH_SECONDS):
        return cached["keys"]
    keys = public_key_set(outbound.get_json(agent.jwks_uri))["keys"]
    cache.set(cache_key, {"keys": keys, "at": time.time()}, KEYS_CACHE_SECONDS)
    return keys


def _first_use(agent, claims):
    """An assertion authenticates once (RFC 7523 §3 item 7); unsure, it does not (fail closed)."""
    try:
        return once.first_use("assertion", agent.client_id, str(claims["jti"]), seconds=MAX_LIFETIME + 60)
    except Exception:
        log.warning("client assertion refused: the replay cache cannot be reached", exc_info=True)
        return False
