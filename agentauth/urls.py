"""URL wiring: the only place, with asgi.py and celery.py, that reaches into every app."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from agentauth.lib import health, metrics
from agentauth.oauth import dcr, device
from agentauth.oauth import metadata as oauth_metadata
from agentauth.oauth import views as oauth_views
from agentauth.resource import schema  # noqa: F401 - registers the bearer scheme with drf-spectacular
from portal import views as portal_views

oauth_patterns = [
    path("authorize/", portal_views.AuthorizeView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeView.as_view(), name="revoke-token"),
    path("introspect/", oauth_views.IntrospectView.as_view(), name="introspect"),
    path("device-authorization/", device.DeviceAuthorizationView.as_view(), name="device-authorization"),
    path("register/", dcr.RegistrationView.as_view(), name="register"),
]

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.view, name="metrics"),
    path(
        ".well-known/oauth-authorization-server",
        oauth_metadata.ServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    re_path(
        r"^\.well-known/oauth-protected-resource(?P<resource_path>/.*)?$",
        oauth_metadata.ResourceMetadataView.as_view(),
        name="oauth-resource-metadata",
    ),
    path(".well-known/jwks.json", oauth_metadata.jwks, name="jwks"),
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path("o/", include((oauth_patterns, "oauth2_provider"))),
    path("accounts/login/", portal_views.ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("examples.urls")),
    path("", include("approvals.urls")),
    path("", include("live.urls")),
    path("", include("passkeys.urls")),
    path("", include("portal.urls")),
]
