"""JWT access tokens (RFC 9068): issued by the token endpoint, verified offline by any API."""

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import set_token_value
from oauthlib.oauth2.rfc6749 import errors

from agentauth.audit import trail
from agentauth.lib import inserts
from agentauth.lib.inserts import insert

from . import dpop, keys, resources, revocation
from .models import AccessToken

TOKEN_TYPE = "at+jwt"
ALGORITHM = "ES256"
# A real access token is well under 2 KB; anything far larger is refused before parsing.
MAX_TOKEN_LENGTH = 8192
# Clock skew allowed between us and the APIs verifying our tokens, on exp and iat.
CLOCK_SKEW_SECONDS = 60
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub", "jti", "client_id", "scope"]


class InvalidToken(Exception):
    """The token is malformed, forged, expired, meant for someone else, or revoked."""


class RevokedToken(InvalidToken):
    """Genuine, but revoked: we know which agent presented it."""

    def __init__(self, claims):
        super().__init__("token revoked")
        self.claims = claims


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says: who it acts for, which agent holds it, what it may do."""

    subject: str
    client_id: str
    scopes: frozenset
    jti: str
    expires_at: int
    audience: tuple
    raw: dict

    def has_scopes(self, required):
        return set(required) <= self.scopes


def audience_for(request):
    """RFC 8707: the resources the agent named (within what it was granted), else our own API.
    A code exchange has checked them already (AgentValidator.validate_code)."""
    if hasattr(request, "token_audience"):
        return request.token_audience
    code = getattr(request, "authorization_code", None)
    refresh = getattr(request, "refresh_token_instance", None)
    inherited = (code.resource if code else None) or (refresh.resource if refresh else None) or []
    return audience(getattr(request, "resource", None), inherited, request)


def audience(requested, inherited, request):
    """The `aud` for a token asked for `requested` resources by a grant made for `inherited` ones;
    raises invalid_target for an unknown resource or one the grant does not cover."""
    requested = [requested] if isinstance(requested, str) else list(requested or [])
    if not requested and not inherited:
        return settings.AGENTAUTH_API_AUDIENCE
    try:
        granted = resources.resolve(inherited)
        named = resources.resolve(requested) if requested else granted
    except ValueError as unknown:
        raise errors.CustomOAuth2Error(error="invalid_target", description=str(unknown), request=request) from None
    if inherited and not set(named) <= set(granted):
        raise errors.CustomOAuth2Error(
            error="invalid_target", description="That resource was not granted.", request=request
        )
    return named[0] if len(named) == 1 else named


def _claims(*, subject, client_id, audience, scopes, lifetime):
    now = int(time.time())
    claims = {
        "iss": settings.AGENTAUTH_ISSUER,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + int(lifetime),
    }
    if jkt := dpop.bound_key():  # RFC 9449 §6: bound to the key of the token request's proof
        claims["cnf"] = {"jkt": jkt}
    return claims


def _sign(claims):
    kid, key = keys.token_signer()
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE, "kid": kid})


def generate_access_token(request):
    """oauthlib token generator: sign an RFC 9068 JWT for the validated request."""
    user = getattr(request, "user", None)
    client = request.client
    claims = _claims(
        subject=str(user.pk) if user is not None else f"agent:{client.client_id}",
        client_id=client.client_id,
        audience=audience_for(request),
        scopes=request.scopes or [],
        lifetime=request.expires_in,
    )
    # Remembered so the stored AccessToken row can name its jti (revocation looks it up).
    request.access_token_jti = claims["jti"]
    return _sign(claims)


def store(raw, *, user, agent, scope, expires, jti, grant_type, details=None, consent=None, **fields):
    """Keep the issued token's row (hashed value, jti for revocation) and its audit record.

    With `consent` (the grant the token's scopes were read from) both are written in one
    statement only while that grant is unchanged, else `inserts.Changed` is raised and nothing
    is written: a narrowing that commits between the read and the write never misses the token.
    """
    row = AccessToken(user=user, application=agent, scope=scope, expires=expires, jti=jti, **fields)
    set_token_value(row, raw)
    entry = trail.new_entry(
        "token.issued",
        actor_type="agent",
        actor=agent.client_id,
        subject=user,
        agent=agent,
        scope=scope,
        details={"grant_type": grant_type, "jti": jti, **(details or {})},
    )
    if consent is None:
        with transaction.atomic(savepoint=False):
            insert(row)
            insert(entry)
    else:
        inserts.insert_while(consent, ["changed_at"], row, entry)
    trail.written()
    return row


def issue(*, user, agent, scopes, grant_type, audience=None, extra_claims=None, lifetime=None, **stored):
    """Mint and record an access token outside oauthlib (CIBA, token exchange); returns (jwt, claims).
    `stored` goes to `store`: the token's `parent`, audit `details`."""
    lifetime = lifetime or settings.AGENTAUTH_ACCESS_TOKEN_SECONDS
    claims = _claims(
        subject=str(user.pk),
        client_id=agent.client_id,
        audience=audience or settings.AGENTAUTH_API_AUDIENCE,
        scopes=scopes,
        lifetime=lifetime,
    ) | (extra_claims or {})
    raw = _sign(claims)
    store(
        raw,
        user=user,
        agent=agent,
        scope=claims["scope"],
        expires=timezone.now() + timedelta(seconds=lifetime),
        jti=claims["jti"],
        grant_type=grant_type,
        **stored,
    )
    return raw, claims


MAX_CHAIN = 5  # agents in one delegation chain, the holder included


def actors(claims):
    """RFC 8693 §4.1: the agents a token was handed on by, nearest first (from nested `act`)."""
    found, act = [], claims.get("act")
    while isinstance(act, dict) and len(found) < MAX_CHAIN:
        found.append(act.get("sub"))
        act = act.get("act")
    if act is not None or not all(isinstance(actor, str) for actor in found):
        raise InvalidToken("malformed act claim")
    return found


def _verified(raw, audience):
    """Check signature, registered claims and header; return the claims.

    Nearly every token is signed with the current key, so that is tried first and the token is
    parsed once; only a token from a retired (or unknown) key pays for a second parse.
    """
    current, _ = keys.token_signer()
    try:
        kid, decoded = current, _decode(raw, current, audience)
    except jwt.InvalidSignatureError:
        kid = jwt.get_unverified_header(raw).get("kid")
        if kid == current:
            raise
        decoded = _decode(raw, kid, audience)
    header = decoded["header"]
    if header.get("kid") != kid:
        raise InvalidToken("kid does not name the key that signed the token")
    if header.get("typ") != TOKEN_TYPE:
        raise InvalidToken("not an access token")
    for forbidden in ("jku", "x5u", "jwk", "x5c", "crit"):
        if forbidden in header:
            raise InvalidToken(f"header parameter {forbidden} is not accepted")
    return kid, decoded["payload"]


# Tokens this process verified, by (token, audience, issuer): an agent presents the same token on
# every call for minutes, and what its signature proves cannot change. A remembered token is
# still refused once it expires or its signing key is no longer published, and revocation is
# checked on every use after this. Bounded: past RECENT_MAX entries it starts again empty.
_recent = {}
RECENT_MAX = 20_000


def _verified_once(raw, audience):
    memo = (raw, audience if isinstance(audience, str) else tuple(audience), settings.AGENTAUTH_ISSUER)
    hit = _recent.get(memo)
    if hit is not None and hit[1]["exp"] + CLOCK_SKEW_SECONDS > time.time() and keys.verifying_key(hit[0]):
        return hit[1]
    kid, claims = _verified(raw, audience)
    if len(_recent) >= RECENT_MAX:
        _recent.clear()
    _recent[memo] = (kid, claims)
    return claims


def forget_verified():
    """Start the memory of verified tokens afresh (tests; a key compromise)."""
    _recent.clear()


def _decode(raw, kid, audience):
    key = keys.verifying_key(kid)
    if key is None:
        raise InvalidToken("unknown signing key")
    return jwt.decode_complete(
        raw,
        key,
        algorithms=[ALGORITHM],
        audience=audience,
        issuer=settings.AGENTAUTH_ISSUER,
        leeway=CLOCK_SKEW_SECONDS,
        options={"require": REQUIRED_CLAIMS},
    )


def verify_access_token(raw, audience=None):
    """Verify signature, header and claims offline, then check the revocation list.

    Raises InvalidToken for anything unacceptable and revocation.RevocationUnavailable when
    the revocation list cannot be read (the caller fails closed).
    """
    if not raw or len(raw) > MAX_TOKEN_LENGTH or raw.count(".") != 2:
        raise InvalidToken("malformed token")
    try:
        claims = _verified_once(raw, audience or settings.AGENTAUTH_API_AUDIENCE)
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidToken(str(error)) from None
    if not all(isinstance(claims.get(name), str) for name in ("sub", "client_id", "jti", "scope")):
        raise InvalidToken("required claims missing")
    if not isinstance(claims.get("iat"), int) or claims["iat"] > time.time() + CLOCK_SKEW_SECONDS:
        raise InvalidToken("issued in the future")
    # A handed-on token dies with any agent up its chain (suspended, revoked).
    if revocation.is_revoked(claims["jti"], [claims["client_id"], *actors(claims)]):
        raise RevokedToken(claims)
    aud = claims.get("aud")
    return AccessClaims(
        subject=claims["sub"],
        client_id=claims["client_id"],
        scopes=frozenset(claims["scope"].split()),
        jti=claims["jti"],
        expires_at=claims["exp"],
        audience=tuple(aud) if isinstance(aud, list) else (aud,),
        raw=claims,
    )
