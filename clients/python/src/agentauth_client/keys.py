"""Keys: the private key of a private_key_jwt client (RFC 7523) and DPoP proofs (RFC 9449).

PyJWT and `cryptography` do every signature; this module only chooses algorithms and claims.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from .errors import ConfigurationError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SECONDS = 60
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# RFC 7638 §3.2: the members a thumbprint covers, per key type.
THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
CURVES = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}

PrivateKeyLike = Any  # PEM (str or bytes), a JWK (dict or JSON string), or a `cryptography` private key


class SigningKey:
    """A private key and the algorithm it signs with; `kid` names it in JWT headers."""

    def __init__(self, key: PrivateKeyLike, *, kid: str | None = None, algorithm: str | None = None):
        self.key, jwk_kid, jwk_alg = _load_private_key(key)
        self.algorithm = algorithm or jwk_alg or _algorithm_for(self.key)
        self.kid = kid or jwk_kid

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        extra = dict(headers or {})
        if self.kid and "jwk" not in extra:
            extra.setdefault("kid", self.kid)
        return jwt.encode(dict(claims), self.key, algorithm=self.algorithm, headers=extra)

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (no private members), with `alg` and `kid` when known."""
        public = self.key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        jwk = {name: value for name, value in jwk.items() if name not in PRIVATE_MEMBERS}
        jwk["alg"] = self.algorithm
        if self.kid:
            jwk["kid"] = self.kid
        return jwk

    def client_assertion(self, client_id: str, audience: str) -> str:
        """An RFC 7523 §2.2 client assertion: `iss` = `sub` = the client, short-lived, single-use `jti`."""
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
            "jti": uuid.uuid4().hex,
        }
        return self.sign(claims)


class DPoPKey(SigningKey):
    """The key DPoP-bound tokens are bound to: it signs one proof per request (RFC 9449 §4)."""

    @classmethod
    def generate(cls) -> DPoPKey:
        """A fresh P-256 key (ES256). Keep it as long as the tokens bound to it."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def thumbprint(self) -> str:
        """The RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of tokens bound to it."""
        return jwk_thumbprint(self.public_jwk())

    def proof(self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None) -> str:
        """A proof for one request: `htm`, `htu` (no query or fragment), `iat`, a fresh `jti`,
        and `ath` when it carries an access token."""
        claims: dict[str, Any] = {
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(time.time()),
            "jti": uuid.uuid4().hex,
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce:
            claims["nonce"] = nonce
        public = {name: value for name, value in self.public_jwk().items() if name not in ("kid", "alg")}
        return jwt.encode(claims, self.key, algorithm=self.algorithm, headers={"typ": "dpop+jwt", "jwk": public})

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, to keep it beside the tokens bound to it."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638: base64url(SHA-256(the required members as compact JSON, sorted))."""
    members = THUMBPRINT_MEMBERS.get(jwk.get("kty", ""))
    if members is None:
        raise ValueError(f"no thumbprint for key type {jwk.get('kty')!r}")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


def access_token_hash(access_token: str) -> str:
    """The `ath` of a DPoP proof: base64url(SHA-256(the access token))."""
    return _b64(hashlib.sha256(access_token.encode("ascii")).digest())


def htu(url: str) -> str:
    """RFC 9449 §4.2: the request URL without its query and fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _load_private_key(key: PrivateKeyLike) -> tuple[Any, str | None, str | None]:
    """(cryptography private key, kid, alg) from PEM, a JWK or a key object."""
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key, None, None
    if isinstance(key, str) and key.lstrip().startswith("{"):
        key = json.loads(key)
    if isinstance(key, Mapping):
        if "d" not in key:
            raise ConfigurationError("This JWK is a public key: the client needs the private key.")
        try:
            loaded = jwt.PyJWK(dict(key))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise ConfigurationError(f"The JWK could not be read: {error}") from None
        return loaded.key, key.get("kid"), key.get("alg")
    if isinstance(key, str):
        key = key.encode()
    if isinstance(key, bytes):
        try:
            return serialization.load_pem_private_key(key, password=None), None, None
        except (ValueError, TypeError) as error:
            raise ConfigurationError(f"The PEM private key could not be read: {error}") from None
    raise ConfigurationError("A private key is PEM, a JWK (dict or JSON) or a cryptography private key.")


def _algorithm_for(key: Any) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        try:
            return CURVES[key.curve.name]
        except KeyError:
            raise ConfigurationError(f"Unsupported curve {key.curve.name}.") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise ConfigurationError(f"Unsupported key type {type(key).__name__}.")
