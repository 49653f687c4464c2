import base64
import hashlib
import hmac

from django.apps import AppConfig


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


class OAuthConfig(AppConfig):
    name = "agentauth.oauth"
    label = "oauth"
    verbose_name = "Authorization server"

    def ready(self):
        _constant_time_pkce()
        from . import exchange  # noqa: F401 - adds the token-exchange grant to the token endpoint
