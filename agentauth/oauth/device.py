"""The device authorization endpoint (RFC 8628 §3.1)."""

from django.db import transaction
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as dot_views
from oauth2_provider.compat import login_not_required

from agentauth.identity import scopes
from agentauth.identity.models import DEVICE_CODE, Agent
from agentauth.lib.http import credentials

from .protocol import authenticated_agent, form_problem, invalid_client, oauth_error


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class DeviceAuthorizationView(dot_views.DeviceAuthorizationView):
    """RFC 8628 §3.1, with the scope check oauthlib 3.x leaves out (it never validates `scope` there)."""

    def post(self, request, *args, **kwargs):
        problem = form_problem(request)
        if problem:
            return oauth_error("invalid_request", problem)
        agent = _device_client(request)
        if agent is None:
            return invalid_client()
        # oauthlib compares the Content-Type string exactly and wants client_id in the body even
        # from a client that authenticated with Basic: give it the request it expects.
        request.META["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        body = request.POST.copy()
        body["client_id"] = agent.client_id
        request.POST = body
        if not agent.is_active or DEVICE_CODE not in agent.grant_types:
            return oauth_error("unauthorized_client", "This agent may not use the device flow.")
        if not request.POST.get("scope"):  # RFC 6749 §3.3: left out, the agent's registered scopes
            request.POST["scope"] = " ".join(scopes.available_to(agent))
        requested = scopes.parse(request.POST.get("scope", ""))
        if not requested or not set(requested) <= set(scopes.available_to(agent)):
            return oauth_error("invalid_scope", "Ask for one or more scopes this agent may use.")
        with transaction.atomic():
            response = super().post(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


def _device_client(request):
    """The agent asking: a public one named by client_id, or one that authenticates (Basic or body)."""
    client_id = request.POST.get("client_id", "")
    named = Agent.objects.filter(client_id=client_id).first() if client_id else None
    if named is not None and named.client_type == Agent.CLIENT_PUBLIC and not credentials(request, "basic"):
        return named
    return authenticated_agent(request)
