"""Every request this server sends to an address someone else chose: approval callbacks, CIBA
pings, and later push endpoints, client metadata documents and jwks_uri.

Loopback, private, link-local, reserved and multicast addresses are refused after resolution,
and the connection goes to the address that was checked (so a DNS answer cannot change between
check and use); redirects are never followed; every request has a timeout. A host named in
AGENTAUTH_OUTBOUND_ALLOWED_HOSTS is the operator's explicit exception (an internal service, a
test server): it is reached as named, and over plain http too.
"""

import json
from urllib.parse import urlsplit

from django.conf import settings
from requests import RequestException
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress

TIMEOUT = (3, 5)  # seconds to connect, seconds to read

_guarded = Manager(
    Config(ip_filter_enable=True, ip_filter_allow_loopback_ips=False, never_redirect=True, default_timeout=TIMEOUT)
)
_trusted = Manager(
    Config(ip_filter_enable=False, ip_filter_allow_loopback_ips=True, never_redirect=True, default_timeout=TIMEOUT)
)


class Refused(RequestException):
    """The URL is not one this server will send anything to."""


def _trusted_host(host):
    return host in {name.lower() for name in settings.AGENTAUTH_OUTBOUND_ALLOWED_HOSTS}


def _host(url):
    return urlsplit(url).hostname or ""  # lower-cased by urlsplit


def allowed(url):
    """Whether `url` may be used at all: https, or http to an allow-listed host. The address is
    checked again when connecting."""
    try:
        parts = urlsplit(url)
        host = _host(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _trusted_host(host))


def _manager(url):
    """The guarded client for `url`, or the operator-trusted one for an allow-listed host."""
    if not allowed(url):
        raise Refused(f"not an allowed URL: {url[:200]!r}")
    return _trusted if _trusted_host(_host(url)) else _guarded


def post(url, **kwargs):
    """POST to someone else's URL; raises Refused for a URL or address it must not reach, and
    requests' own exceptions (all RequestException, an OSError) for network failures."""
    manager = _manager(url)
    try:
        return manager.send_request("POST", url, **kwargs)
    except InvalidIPAddress as error:
        raise Refused(f"{_host(url)} resolves to an address this server does not call") from error


def session(url):
    """A requests session for libraries that send on their own (pywebpush), guarded the same way."""
    return _manager(url).get_session()


MAX_DOCUMENT_BYTES = 64 * 1024


def get_json(url):
    """GET a small JSON document (a jwks_uri, client metadata) through the same guard; raises
    Refused, requests' exceptions, or ValueError for anything but a JSON object under 64 KiB."""
    return fetch_json(url)[0]


def fetch_json(url, max_bytes=MAX_DOCUMENT_BYTES, timeout=TIMEOUT):
    """Like get_json, and also the response headers (for HTTP caching)."""
    try:
        with _manager(url).get_session() as session:
            response = session.get(
                url,
                stream=True,
                headers={"Accept": "application/json"},
                verify=settings.AGENTAUTH_OUTBOUND_CA_BUNDLE or True,
                timeout=timeout,
            )
            body = response.raw.read(max_bytes + 1, decode_content=True)
    except InvalidIPAddress as error:
        raise Refused(f"{_host(url)} resolves to an address this server does not call") from error
    if response.status_code != 200:
        raise ValueError(f"{_host(url)} answered HTTP {response.status_code}")
    if len(body) > max_bytes:
        raise ValueError(f"{_host(url)} sent more than {max_bytes} bytes")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object")
    return document, response.headers
