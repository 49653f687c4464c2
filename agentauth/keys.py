"""Signing keys: ES256 key pairs kept in the database, private halves encrypted at rest."""

import base64
import hashlib
import threading
import time
from datetime import timedelta

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from jwcrypto import jwk

from . import audit
from .models import SigningKey


def _fernet():
    secret = settings.AGENTAUTH_KEY_ENCRYPTION_KEY or settings.SECRET_KEY
    derived = hashlib.sha256(b"agentauth-signing-keys:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def publication_window():
    """How long a retired key stays in the JWKS: until every token it signed has expired."""
    return timedelta(seconds=settings.AGENTAUTH_ACCESS_TOKEN_SECONDS + settings.AGENTAUTH_JWKS_CACHE_SECONDS)


@transaction.atomic
def rotate_signing_key():
    """Add a new current key and retire the previous one (still published until its tokens expire)."""
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    kid = key.thumbprint()
    SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=timezone.now())
    public = key.export_public(as_dict=True) | {"kid": kid, "use": "sig", "alg": "ES256"}
    signing_key = SigningKey.objects.create(
        kid=kid,
        encrypted_private_key=_fernet().encrypt(key.export_to_pem(private_key=True, password=None)).decode(),
        public_jwk=public,
    )
    audit.record("key.rotated", details={"kid": kid})
    transaction.on_commit(_cache.clear)
    return signing_key


def published_keys():
    """The keys a verifier may meet: the current one and those retired recently enough."""
    cutoff = timezone.now() - publication_window()
    return SigningKey.objects.filter(Q(retired_at__isnull=True) | Q(retired_at__gt=cutoff))


def jwks():
    return {"keys": [key.public_jwk for key in published_keys()]}


class _KeyCache:
    """Per-process cache: signing and verification never touch the database on the hot path."""

    # An unknown `kid` may mean a key rotated in another process; reload at most this often so
    # a flood of forged kids cannot turn into a flood of queries.
    RELOAD_INTERVAL = 5.0

    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self):
        self.signing = None
        self.keyset = jwk.JWKSet()
        self.loaded_at = float("-inf")

    def _load(self):
        current = SigningKey.objects.filter(retired_at__isnull=True).first()
        if current is None:
            current = rotate_signing_key()
        pem = _fernet().decrypt(current.encrypted_private_key.encode())
        self.signing = (current.kid, jwk.JWK.from_pem(pem))
        self.keyset = jwk.JWKSet()
        for key in published_keys():
            self.keyset.add(jwk.JWK(**key.public_jwk))
        self.loaded_at = time.monotonic()

    def _stale(self):
        return time.monotonic() - self.loaded_at > settings.AGENTAUTH_JWKS_CACHE_SECONDS

    def signing_key(self):
        with self._lock:
            if self.signing is None or self._stale():
                self._load()
            return self.signing

    def verification_keys(self, reload=False):
        """All published keys as a JWKSet. `reload` (an unknown kid) refreshes at most every few seconds."""
        if self._stale() or (reload and time.monotonic() - self.loaded_at > self.RELOAD_INTERVAL):
            with self._lock:
                self._load()
        return self.keyset


_cache = _KeyCache()
signing_key = _cache.signing_key
verification_keys = _cache.verification_keys
clear_cache = _cache.clear
