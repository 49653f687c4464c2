"""Resource servers (RFC 8707 resource indicators, RFC 9728 protected resources), matched the way
clients spell them: `https://API.example.com:443/mcp/` is `https://api.example.com/mcp`.

The server's own API (AGENTAUTH_API_AUDIENCE) is always one of them, registered or not, so the
common token (no `resource` asked) needs no lookup.
"""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(uri):
    """The RFC 3986 §6.2.2-6.2.3 form used for matching; ValueError for what cannot be a resource
    indicator (RFC 8707 §2: an absolute URI without a fragment). A trailing slash is not
    significant here: MCP clients and their servers disagree about it."""
    if not isinstance(uri, str) or not uri.strip() or len(uri) > 500:
        raise ValueError("A resource is an absolute URI of at most 500 characters.")
    try:
        parts = urlsplit(uri.strip())
        port = parts.port
    except ValueError:
        raise ValueError("Not a valid URI.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("A resource is an absolute http(s) URI.")
    if parts.fragment or "#" in uri:
        raise ValueError("A resource must not have a fragment (RFC 8707 §2).")
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def is_default(uri):
    try:
        return normalise(uri) == normalise(settings.AGENTAUTH_API_AUDIENCE)
    except ValueError:
        return False


def find(uri):
    """The registered resource server `uri` names, or None. The server's own API is found even
    when it has no row (then an unsaved one stands in)."""
    try:
        key = normalise(uri)
    except ValueError:
        return None
    found = ResourceServer.objects.filter(match_key=key).select_related("introspector").first()
    if key == normalise(settings.AGENTAUTH_API_AUDIENCE):
        found = found or ResourceServer(match_key=key, name="This server's API")
        found.identifier = settings.AGENTAUTH_API_AUDIENCE  # tokens name it exactly as the API checks it
    return found


def resolve(uris):
    """The identifiers (as tokens carry them) of the resources `uris` name; ValueError naming the
    first unknown one."""
    identifiers = []
    for uri in uris:
        found = find(uri)
        if found is None:
            raise ValueError(f"Unknown resource: {str(uri)[:200]}")
        identifiers.append(found.identifier)
    return list(dict.fromkeys(identifiers))


def ensure_registered(**kwargs):
    """post_migrate: the server's own API, and AGENTAUTH_EXTRA_RESOURCES, exist as rows; the
    catalogue's scopes that name no resource server belong to the API."""
    from .models import Scope

    api, _ = ResourceServer.objects.get_or_create(
        match_key=normalise(settings.AGENTAUTH_API_AUDIENCE),
        defaults={"identifier": settings.AGENTAUTH_API_AUDIENCE, "name": "Example API (documents, payments)"},
    )
    Scope.objects.filter(resource_server=None).update(resource_server=api)
    for extra in settings.AGENTAUTH_EXTRA_RESOURCES:
        if not ResourceServer.objects.filter(match_key=normalise(extra)).exists():
            ResourceServer.objects.create(identifier=extra, name=urlsplit(extra).hostname or extra)


class ResourceServer(models.Model):
    """An API that accepts our tokens (RFC 8707 resource, RFC 9728 protected resource): tokens
    asked for it carry its identifier as `aud`, and only it may introspect them."""

    identifier = models.CharField(
        max_length=500, help_text="Absolute URI, as tokens name it in `aud` (RFC 8707), e.g. https://api.example.com/"
    )
    # What requests are matched on (RFC 3986 normalised; see agentauth.identity.resources).
    match_key = models.CharField(max_length=500, unique=True, editable=False)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    introspector = models.ForeignKey(
        "Agent",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="resources",
        help_text="The credentials this resource server introspects tokens with (RFC 7662)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.identifier})"

    def save(self, *args, **kwargs):
        self.match_key = normalise(self.identifier)
        super().save(*args, **kwargs)

    def clean(self):
        try:
            normalise(self.identifier)
        except ValueError as error:
            raise ValidationError({"identifier": str(error)}) from None
