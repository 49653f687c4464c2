"""The token endpoint, as in Authlib's Django guide, with the client credentials grant registered."""

from authlib.integrations.django_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import OAuth2Client, OAuth2Token

server = AuthorizationServer(OAuth2Client, OAuth2Token)
server.register_grant(grants.ClientCredentialsGrant)


@csrf_exempt  # a token endpoint authenticates clients, not browser sessions
@require_http_methods(["POST"])
def issue_token(request):
    return server.create_token_response(request)


def healthz(request):
    return JsonResponse({"status": "ok"})
