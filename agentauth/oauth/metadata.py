"""Discovery: RFC 8414 server metadata, RFC 9728 resource metadata and the JWKS."""

import json

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET
from oauth2_provider import views as dot_views
from oauth2_provider.compat import login_not_required

from agentauth.identity import dpop, keys, resources
from agentauth.identity.models import ResourceServer
from agentauth.identity.rar import detail_types
from agentauth.resource.errors import metadata_url

from .protocol import EXTRA_METADATA

SECRET_METHODS = ["client_secret_basic", "client_secret_post"]


@method_decorator(login_not_required, name="dispatch")
class ServerMetadataView(dot_views.OAuthServerMetadataView):
    """RFC 8414 metadata: DOT's document plus the endpoints DOT does not know about."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        issuer = settings.AGENTAUTH_ISSUER
        data |= {
            "issuer": issuer,
            "jwks_uri": issuer + reverse("jwks"),
            "device_authorization_endpoint": issuer + reverse("oauth2_provider:device-authorization"),
            "registration_endpoint": issuer + reverse("oauth2_provider:register"),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [*SECRET_METHODS, "private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": dpop.ALGORITHMS,
            "introspection_endpoint_auth_methods_supported": [*SECRET_METHODS, "private_key_jwt"],
            "revocation_endpoint_auth_methods_supported": [*SECRET_METHODS, "private_key_jwt", "none"],
            "response_modes_supported": ["query"],
            "service_documentation": issuer + "/",
            "dpop_signing_alg_values_supported": dpop.ALGORITHMS,
        }
        for grant_type, metadata in EXTRA_METADATA.items():
            data |= metadata(issuer)
            data["grant_types_supported"] = [*data["grant_types_supported"], grant_type]
        if types := detail_types():
            data["authorization_details_types_supported"] = sorted(types)
        return JsonResponse(data, headers={"Access-Control-Allow-Origin": "*"})


@method_decorator(login_not_required, name="dispatch")
class ResourceMetadataView(dot_views.OAuthProtectedResourceMetadataView):
    """RFC 9728: each protected resource's document at its path-inserted URL, with `resource`
    equal to its identifier (a strict client compares them). The bare well-known URL keeps
    describing the example API, the server's default resource."""

    def get(self, request, resource_path=""):
        self.resource = self._resource(resource_path)
        if self.resource is None:
            return JsonResponse({"error": "not_found"}, status=404)
        return super().get(request)

    @staticmethod
    def _resource(resource_path):
        if not resource_path:
            return resources.find(settings.AGENTAUTH_API_AUDIENCE)
        wanted = metadata_url(settings.AGENTAUTH_ISSUER) + resource_path
        registered = ResourceServer.objects.values_list("identifier", flat=True)
        for candidate in [settings.AGENTAUTH_API_AUDIENCE, *registered]:
            if metadata_url(candidate) == wanted:
                return resources.find(candidate)
        return None

    def get_resource(self, request):
        return self.resource.identifier

    def get_resource_name(self):
        return self.resource.name

    def get_scopes_supported(self):
        if self.resource.pk is None:
            return super().get_scopes_supported()
        return sorted(self.resource.scopes.values_list("name", flat=True))


@require_GET
@login_not_required
def jwks(request):
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = f"public, max-age={settings.AGENTAUTH_JWKS_CACHE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    return response
