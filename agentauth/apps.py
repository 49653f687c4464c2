import base64
import hashlib
import hmac

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _constant_time_pkce():
    """oauthlib 3.x compares PKCE verifiers with `==` (CVE-2026-49265); 4.x fixed it."""
    import oauthlib
    from oauthlib.oauth2.rfc6749.grant_types.authorization_code import AuthorizationCodeGrant

    if int(oauthlib.__version__.split(".")[0]) >= 4:
        return

    def s256(verifier, challenge):
        digest = hashlib.sha256(verifier.encode()).digest()
        return hmac.compare_digest(base64.urlsafe_b64encode(digest).decode().rstrip("="), challenge)

    # Only S256: `plain` is refused before the consent screen anyway.
    AuthorizationCodeGrant._code_challenge_methods = {"S256": s256}


class AgentAuthConfig(AppConfig):
    name = "agentauth"
    verbose_name = "Agent identity"

    def ready(self):
        from . import audit, checks, receivers, schema, seed  # noqa: F401 - registers checks, receivers, schema

        _constant_time_pkce()
        audit.connect_admin_log()
        post_migrate.connect(seed.seed_scopes, sender=self)
