"""Which redirect URIs an agent may register (RFC 9700 §2.1, RFC 8252 §7.3, RFC 6749 §3.1.2)."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

LOOPBACK_HOSTS = {"127.0.0.1", "[::1]", "localhost"}
MAX_URI_LENGTH = 2000


def validate_redirect_uri(uri):
    """Refuse anything but an absolute https URI, or http on a loopback host, with no fragment."""
    if len(uri) > MAX_URI_LENGTH:
        raise ValidationError("Redirect URI is too long.")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in uri):
        raise ValidationError("Redirect URI contains spaces or control characters.")
    try:
        parts = urlsplit(uri)
        port = parts.port  # noqa: F841 - parsing the port validates it
    except ValueError:
        raise ValidationError(f"{uri!r} is not a valid URI.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"{uri!r}: use an absolute https URI.")
    if not uri.startswith(scheme + "://"):
        raise ValidationError(f"{uri!r}: write the scheme in lower case.")
    if "#" in uri:
        raise ValidationError(f"{uri!r}: a redirect URI must not contain a fragment.")
    if "*" in parts.netloc:
        raise ValidationError(f"{uri!r}: wildcards are not allowed.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(f"{uri!r}: user information is not allowed.")
    if scheme == "http" and parts.netloc.split(":")[0].lower() not in LOOPBACK_HOSTS and parts.hostname != "::1":
        raise ValidationError(f"{uri!r}: plain http is only allowed for loopback addresses (RFC 8252).")


def validate_redirect_uris(uris):
    errors = []
    for uri in uris:
        try:
            validate_redirect_uri(uri)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)


def _without_loopback_port(uri):
    """For http loopback URIs, the port is the native app's choice (RFC 8252 §7.3): drop it."""
    try:
        parts = urlsplit(uri)
        if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1") and parts.port:
            host = "[::1]" if parts.hostname == "::1" else parts.hostname
            return parts._replace(netloc=host).geturl()
    except ValueError:
        return None
    return uri


def redirect_uri_matches(uri, registered):
    """Simple string comparison (OAuth 2.1 §4.1.1), the loopback port excepted."""
    if not uri or len(uri) > MAX_URI_LENGTH:
        return False
    if uri in registered:
        return True
    candidate = _without_loopback_port(uri)
    return candidate is not None and candidate != uri and candidate in registered
