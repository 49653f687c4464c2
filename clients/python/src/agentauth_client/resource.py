"""For tool servers and APIs in any Python framework: verify AgentAuth access tokens offline.

    verifier = TokenVerifier("https://auth.example.com", audience="https://tools.example.com/mcp")
    claims = verifier.verify(request.headers.get("Authorization"), scopes=["tools:read"],
                             dpop=request.headers.get("DPoP"), method=request.method, url=full_url)

Tokens are RFC 9068 JWTs (`typ: at+jwt`, ES256) checked against the server's JWKS, fetched once,
cached, and fetched again for an unknown `kid` (key rotation), at most every `refetch_interval`
seconds. A DPoP-bound token (`cnf.jkt`) is accepted only as `Authorization: DPoP` with a valid
proof for this request from that key (RFC 9449 §7). Refusals are `TokenError`s that carry the
HTTP status and `WWW-Authenticate` challenge to answer with. Revocation is not checked offline:
tokens live minutes; for an instant cut-off, use the server's introspection endpoint as well.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import jwt

from ._steps import Send, body_of
from .errors import InsufficientScope, InvalidDPoPProof, InvalidToken, TransportError
from .keys import PRIVATE_MEMBERS, access_token_hash, jwk_thumbprint

T = TypeVar("T")
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §4
PROOF_ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA")
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]


@dataclass(frozen=True)
class Claims:
    """The verified claims of an access token."""

    subject: str  # the person the agent acts for
    client_id: str  # the agent
    scopes: frozenset[str]
    audience: tuple[str, ...]
    issuer: str
    issued_at: int
    expires_at: int
    jti: str
    jkt: str | None = None  # the DPoP key thumbprint the token is bound to
    actor: Mapping[str, Any] | None = None  # RFC 8693 `act`: who acts on behalf of whom
    authorization_details: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def has_scopes(self, *names: str) -> bool:
        return set(names) <= self.scopes


class ReplayCache:
    """Proof `jti`s seen in this process, forgotten when they could no longer pass the age check.

    Enough for one process; several processes behind one API need a shared cache (e.g. Redis
    `SET key NX EX`): pass any `(key, expires_at) -> bool` callable as `replay_cache`."""

    def __init__(self, max_entries: int = 100_000):
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def __call__(self, key: str, expires_at: float) -> bool:
        """True the first time `key` is seen (and remembers it), False after that."""
        now = time.time()
        with self._lock:
            if len(self._seen) >= self._max:
                self._seen = {seen: until for seen, until in self._seen.items() if until > now}
            if self._seen.get(key, 0) > now:
                return False
            self._seen[key] = expires_at
            return True


class _Verification:
    """The checks, once, as generators that yield `Send` to fetch metadata and keys."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_uri: str | None,
        algorithms: Collection[str],
        leeway: float,
        proof_seconds: float,
        cache_seconds: float,
        refetch_interval: float,
        replay_cache: Callable[[str, float], bool] | None,
    ):
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.jwks_uri = jwks_uri
        self.algorithms = list(algorithms)
        self.leeway = leeway
        self.proof_seconds = proof_seconds
        self.cache_seconds = cache_seconds
        self.refetch_interval = refetch_interval
        self.replay_cache = replay_cache if replay_cache is not None else ReplayCache()
        self.keys: dict[str, Any] = {}
        self.loaded_at = float("-inf")
        self.fetched_at = float("-inf")

    def verify(
        self,
        authorization: str | None,
        *,
        scopes: Collection[str] = (),
        dpop: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> Generator[Send, Any, Claims]:
        scheme, _, token = (authorization or "").strip().partition(" ")
        scheme, token = scheme.lower(), token.strip()
        if scheme not in ("bearer", "dpop") or not token:
            raise InvalidToken("Send 'Authorization: Bearer <token>' or 'Authorization: DPoP <token>'.")
        presented_as = "DPoP" if scheme == "dpop" else "Bearer"
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("The access token is not a JWT.", scheme=presented_as) from None
        if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidToken("Not an access token (typ at+jwt, RFC 9068).", scheme=presented_as)
        if header.get("alg") not in self.algorithms:
            raise InvalidToken("The token is signed with an algorithm this server does not accept.")
        key = yield from self._key(header.get("kid"))
        raw = self._decode(token, key, presented_as)
        claims = _claims(raw)
        if claims.jkt and presented_as != "DPoP":
            raise InvalidToken("This token is bound to a key: send it with the DPoP scheme and a proof.", scheme="DPoP")
        if presented_as == "DPoP":
            if not claims.jkt:
                raise InvalidToken("This token is not bound to a key: send it with the Bearer scheme.")
            self._check_proof(dpop, method=method, url=url, token=token, jkt=claims.jkt)
        missing = tuple(name for name in scopes if name not in claims.scopes)
        if missing:
            raise InsufficientScope(f"This needs {' '.join(missing)}.", required=tuple(scopes), scheme=presented_as)
        return claims

    def _decode(self, token: str, key: Any, scheme: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The access token has expired.", scheme=scheme) from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("The access token is for another audience.", scheme=scheme) from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("The access token is from another issuer.", scheme=scheme) from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"The access token has no {error.claim} claim.", scheme=scheme) from None
        except jwt.PyJWTError:
            raise InvalidToken("The access token's signature or claims are invalid.", scheme=scheme) from None

    def _key(self, kid: Any) -> Generator[Send, Any, Any]:
        now = time.monotonic()
        # Keys too old, or a kid we do not know (perhaps the server rotated its key): fetch them
        # again, but not more often than refetch_interval, so forged kids cannot flood the server.
        due = now - self.loaded_at > self.cache_seconds or kid not in self.keys
        if due and (not self.keys or now - self.fetched_at >= self.refetch_interval):
            yield from self._fetch_keys()
        if not isinstance(kid, str) or kid not in self.keys:
            raise InvalidToken("The access token is signed by a key this server does not publish.")
        return self.keys[kid]

    def _fetch_keys(self) -> Generator[Send, Any, None]:
        self.fetched_at = time.monotonic()
        try:
            if self.jwks_uri is None:
                metadata = yield from _get_json(self.issuer + "/.well-known/oauth-authorization-server")
                if metadata.get("issuer") != self.issuer:
                    raise TransportError(f"The metadata at {self.issuer} names another issuer.")
                self.jwks_uri = metadata["jwks_uri"]
            document = yield from _get_json(self.jwks_uri)
        except TransportError:
            if self.keys:  # keep verifying with the keys we have; try again after refetch_interval
                return
            raise
        keys = {}
        for jwk in document.get("keys", []):
            if isinstance(jwk, dict) and isinstance(jwk.get("kid"), str) and jwk.get("use", "sig") == "sig":
                try:
                    keys[jwk["kid"]] = jwt.PyJWK(jwk).key
                except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                    continue  # a key type this client cannot use: tokens signed with it fail
        self.keys, self.loaded_at = keys, time.monotonic()

    def _check_proof(self, proof: str | None, *, method: str | None, url: str | None, token: str, jkt: str) -> None:
        """RFC 9449 §4.3 and §7.1: this request's proof, from the key the token is bound to."""
        if not proof or "," in proof or method is None or url is None:
            raise InvalidDPoPProof("Send one DPoP proof for this request (and give the verifier method and url).")
        try:
            header = jwt.get_unverified_header(proof)
            public = header.get("jwk")
            if header.get("typ") != "dpop+jwt" or header.get("alg") not in PROOF_ALGORITHMS:
                raise InvalidDPoPProof("The proof needs typ dpop+jwt and an asymmetric algorithm.")
            if not isinstance(public, dict) or PRIVATE_MEMBERS & set(public):
                raise InvalidDPoPProof("The proof's header must carry its public key, and only that.")
            key = jwt.PyJWK(public, algorithm=header["alg"]).key
            claims = jwt.decode(
                proof,
                key,
                algorithms=[header["alg"]],
                options={"require": ["jti", "htm", "htu", "iat"], "verify_iat": False},
            )
        except InvalidDPoPProof:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise InvalidDPoPProof("The proof is not a valid signed JWT.") from None
        if claims["htm"] != method.upper():
            raise InvalidDPoPProof("The proof's htm is not this request's method.")
        if not isinstance(claims["htu"], str) or _comparable(claims["htu"]) != _comparable(url):
            raise InvalidDPoPProof("The proof's htu is not this request's URL.")
        iat = claims["iat"]
        if not isinstance(iat, int | float) or abs(time.time() - iat) > self.proof_seconds:
            raise InvalidDPoPProof("The proof's iat is too old or in the future.")
        if claims.get("ath") != access_token_hash(token):
            raise InvalidDPoPProof("The proof's ath is not the hash of this access token.")
        if jwk_thumbprint(public) != jkt:
            raise InvalidDPoPProof("The proof is signed with another key than the one the token is bound to.")
        if not isinstance(claims["jti"], str) or not self.replay_cache(
            f"{jkt}:{claims['jti']}", iat + self.proof_seconds
        ):
            raise InvalidDPoPProof("This proof was used before.")


def _get_json(url: str) -> Generator[Send, Any, dict[str, Any]]:
    try:
        response = yield Send("GET", url, headers={"Accept": "application/json"})
    except httpx.TransportError as error:
        raise TransportError(f"{url}: {error!r}") from error
    body = body_of(response)
    if response.status_code != 200 or not isinstance(body, dict):
        raise TransportError(f"{url} answered HTTP {response.status_code}.")
    return body


def _comparable(url: str) -> tuple[str, str, int | None, str] | None:
    """RFC 9449 §4.3: without query and fragment; scheme and host case-insensitive; default ports."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path or "/"


def _claims(raw: dict[str, Any]) -> Claims:
    cnf = raw.get("cnf")
    audience = raw["aud"]
    details = raw.get("authorization_details")
    return Claims(
        subject=str(raw["sub"]),
        client_id=str(raw["client_id"]),
        scopes=frozenset(str(raw.get("scope", "")).split()),
        audience=tuple(audience) if isinstance(audience, list) else (audience,),
        issuer=raw["iss"],
        issued_at=raw["iat"],
        expires_at=raw["exp"],
        jti=raw["jti"],
        jkt=cnf.get("jkt") if isinstance(cnf, dict) else None,
        actor=raw.get("act") if isinstance(raw.get("act"), dict) else None,
        authorization_details=tuple(details) if isinstance(details, list) else (),
        raw=raw,
    )


class _Verifier:
    """What both verifiers are built from; `TokenVerifier` documents the arguments."""

    _HTTP: type = httpx.Client

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_uri: str | None = None,
        algorithms: Collection[str] = ("ES256",),
        leeway: float = 5.0,
        proof_seconds: float = 60.0,
        cache_seconds: float = 300.0,
        refetch_interval: float = 30.0,
        replay_cache: Callable[[str, float], bool] | None = None,
        timeout: float = 5.0,
        http: httpx.Client | httpx.AsyncClient | None = None,
    ):
        self._checks = _Verification(
            issuer,
            audience,
            jwks_uri=jwks_uri,
            algorithms=algorithms,
            leeway=leeway,
            proof_seconds=proof_seconds,
            cache_seconds=cache_seconds,
            refetch_interval=refetch_interval,
            replay_cache=replay_cache,
        )
        self._http = http or self._HTTP(timeout=timeout)


class TokenVerifier(_Verifier):
    """Verify AgentAuth access tokens for one resource server (blocking; thread-safe).

    Args:
        issuer: the AgentAuth issuer URL (the tokens' `iss`).
        audience: this resource server's identifier (the tokens' `aud`).
        jwks_uri: where the keys are; default: from the issuer's RFC 8414 metadata.
        algorithms: the signature algorithms accepted (AgentAuth signs with ES256).
        leeway: clock skew allowed on `exp` and `iat`, in seconds.
        proof_seconds: how old (or early) a DPoP proof's `iat` may be.
        cache_seconds: how long fetched keys are used before they are fetched again.
        refetch_interval: an unknown `kid` fetches the keys again at most this often.
        replay_cache: `(key, expires_at) -> first time?`; default: in this process (see ReplayCache).
        timeout: seconds before fetching the metadata or the keys gives up.
        http: an `httpx.Client` to fetch with.
    """

    _HTTP = httpx.Client

    def verify(
        self,
        authorization: str | None,
        *,
        scopes: Collection[str] = (),
        dpop: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> Claims:
        """Verify the `Authorization` header's token (and, for a bound token, the `DPoP` header's
        proof for `method` and `url`); returns its claims or raises InvalidToken,
        InsufficientScope (when `scopes` are not all granted) or InvalidDPoPProof."""
        steps = self._checks.verify(authorization, scopes=scopes, dpop=dpop, method=method, url=url)
        return _drive(steps, lambda op: self._http.request(op.method, op.url, headers=op.headers))

    def verify_token(self, token: str, *, scopes: Collection[str] = ()) -> Claims:
        """Verify a bearer token given on its own (as MCP's TokenVerifier hands it over)."""
        return self.verify(f"Bearer {token}", scopes=scopes)


class AsyncTokenVerifier(_Verifier):
    """The asyncio twin of `TokenVerifier` (same arguments; `http` is an `httpx.AsyncClient`)."""

    _HTTP = httpx.AsyncClient

    async def verify(
        self,
        authorization: str | None,
        *,
        scopes: Collection[str] = (),
        dpop: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> Claims:
        """See `TokenVerifier.verify`."""
        steps = self._checks.verify(authorization, scopes=scopes, dpop=dpop, method=method, url=url)
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = steps.throw(error) if error is not None else steps.send(value)
            except StopIteration as done:
                return done.value
            value, error = None, None
            try:
                value = await self._http.request(op.method, op.url, headers=op.headers)
            except httpx.TransportError as failure:
                error = failure

    async def verify_token(self, token: str, *, scopes: Collection[str] = ()) -> Claims:
        """See `TokenVerifier.verify_token`."""
        return await self.verify(f"Bearer {token}", scopes=scopes)


def _drive(steps: Generator[Send, Any, T], perform: Callable[[Send], httpx.Response]) -> T:
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            op = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as done:
            return done.value
        value, error = None, None
        try:
            value = perform(op)
        except httpx.TransportError as failure:
            error = failure
