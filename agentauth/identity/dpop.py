"""RFC 9449 DPoP: tokens bound to the agent's key, and the proofs that show it holds that key.

A proof is a JWT the agent signs for one request (`htm`, `htu`, `iat`, a fresh `jti`, and `ath`
when it carries an access token), with its public key in the header. The token endpoint binds
what it issues to that key (`cnf.jkt`, the RFC 7638 thumbprint); an API accepts a bound token
only with a proof from the same key. PyJWT verifies the signatures; nothing here is crypto.

Replays are refused through a cache of seen `jti`s (Redis in production). When that cache cannot
answer, proofs are refused too: fail closed, never a silent pass and never a database write.
"""

import base64
import functools
import hashlib
import json
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.core import signing
from jwcrypto import jwk

from agentauth.lib import once

PROOF_TYPE = "dpop+jwt"
ALGORITHMS = ["ES256", "ES384", "PS256", "RS256", "EdDSA"]
MAX_PROOF_LENGTH = 8192
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
NONCE_SECONDS = 300


class ProofError(Exception):
    """The proof is missing, malformed, for another request, stale, replayed or from another key."""

    error = "invalid_dpop_proof"

    def __init__(self, description):
        super().__init__(description)
        self.description = description


class NonceRequired(ProofError):
    """This server wants a nonce it issued in the proof (RFC 9449 §8); send the one in DPoP-Nonce."""

    error = "use_dpop_nonce"


class ReplayCacheUnavailable(Exception):
    """Seen proofs cannot be checked right now; the caller answers 503."""


@dataclass(frozen=True)
class Proof:
    jkt: str  # the RFC 7638 SHA-256 thumbprint of the proof's key
    jti: str


def thumbprint(public_jwk):
    return jwk.JWK(**public_jwk).thumbprint()


@functools.lru_cache(maxsize=4096)
def _key(public_json, alg):
    """The key object and thumbprint of a proof's public key. An agent signs every proof with the
    same key, so both are built once per key, not once per request."""
    public = json.loads(public_json)
    return jwt.PyJWK(public, algorithm=alg).key, thumbprint(public)


def access_token_hash(raw):
    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest()).rstrip(b"=").decode()


def verify(proof, *, method, url, access_token=None, bound_to=None):
    """Check one proof for this request; returns the Proof or raises ProofError (or
    ReplayCacheUnavailable). `access_token` and `bound_to` are what an API checks in addition."""
    if not proof or len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2 or "," in proof:
        raise ProofError("Send exactly one DPoP proof, a signed JWT.")
    try:
        header = jwt.get_unverified_header(proof)
        public = header.get("jwk")
        if header.get("typ") != PROOF_TYPE or header.get("alg") not in ALGORITHMS:
            raise ProofError(f"The proof needs typ {PROOF_TYPE} and one of {', '.join(ALGORITHMS)}.")
        if not isinstance(public, dict) or PRIVATE_MEMBERS & set(public):
            raise ProofError("The proof's header must carry its public key (jwk), and only that.")
        key, jkt = _key(json.dumps(public, sort_keys=True), header["alg"])
        options = {"require": ["jti", "htm", "htu", "iat"], "verify_iat": False}  # iat: checked below
        claims = jwt.decode(proof, key, algorithms=[header["alg"]], options=options)
    except ProofError:
        raise
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise ProofError("The proof is not a valid signed JWT.") from None
    _check_request(claims, method, url)
    _check_age(claims)
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise ProofError("The proof's ath is not the hash of this access token.")
    if bound_to is not None and jkt != bound_to:
        raise ProofError("The proof is signed with another key than the one the token is bound to.")
    if settings.AGENTAUTH_DPOP_NONCE and not _nonce_ok(claims.get("nonce")):
        raise NonceRequired("Use the nonce in the DPoP-Nonce header.")
    _first_use(jkt, claims["jti"])
    return Proof(jkt=jkt, jti=claims["jti"])


def _check_request(claims, method, url):
    if claims["htm"] != method:
        raise ProofError("The proof's htm is not this request's method.")
    if not isinstance(claims["htu"], str) or _comparable(claims["htu"]) != _comparable(url):
        raise ProofError("The proof's htu is not this request's URL.")


def _comparable(url):
    """RFC 9449 §4.3: the URL without query and fragment, scheme and host case-insensitive."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path or "/")


def _check_age(claims):
    iat = claims["iat"]
    if not isinstance(iat, int | float) or abs(time.time() - iat) > settings.AGENTAUTH_DPOP_PROOF_SECONDS:
        raise ProofError("The proof's iat is too old or in the future.")


def _first_use(jkt, jti):
    if not isinstance(jti, str) or not 8 <= len(jti) <= 200:
        raise ProofError("The proof needs a unique jti.")
    try:
        fresh = once.first_use("dpop", jkt, jti, seconds=2 * settings.AGENTAUTH_DPOP_PROOF_SECONDS)
    except Exception as error:
        raise ReplayCacheUnavailable() from error
    if not fresh:
        raise ProofError("This proof was used before.")


_nonces = signing.TimestampSigner(salt="agentauth.dpop.nonce")


def new_nonce():
    return _nonces.sign("n")


def _nonce_ok(nonce):
    try:
        return isinstance(nonce, str) and _nonces.unsign(nonce, max_age=NONCE_SECONDS) == "n"
    except signing.BadSignature:
        return False


# The key the tokens minted in this request are bound to (set by the token endpoint).
_binding: ContextVar[str | None] = ContextVar("dpop_binding", default=None)


@contextmanager
def binding(jkt):
    token = _binding.set(jkt)
    try:
        yield
    finally:
        _binding.reset(token)


def bound_key():
    return _binding.get()
