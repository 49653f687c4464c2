"""URL wiring: the only place, with asgi.py and celery.py, that reaches into every app."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from oauth2_provider import views as dot_views

from consent import views as consent_views

from . import views

oauth_patterns = [
    path("authorize/", consent_views.AuthorizeView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectView.as_view(), name="introspect"),
    path("device-authorization/", views.DeviceAuthorizationView.as_view(), name="device-authorization"),
    path("register/", views.RegistrationView.as_view(), name="register"),
]

urlpatterns = [
    path("", consent_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path(".well-known/oauth-authorization-server", views.ServerMetadataView.as_view(), name="oauth-server-metadata"),
    path(
        ".well-known/oauth-protected-resource",
        dot_views.OAuthProtectedResourceMetadataView.as_view(),
        name="oauth-resource-metadata",
    ),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path("o/", include((oauth_patterns, "oauth2_provider"))),
    path("accounts/login/", consent_views.ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("examples.urls")),
    path("", include("approvals.urls")),
    path("", include("consent.urls")),
]
