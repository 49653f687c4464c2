"""The consent screen (authorization code flow) and the device page (RFC 8628)."""

from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core import signing
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import View
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.views.base import BaseAuthorizationView

from agentauth.consent import grants
from agentauth.consent.models import GrantChange
from agentauth.identity import resources, scopes
from agentauth.identity.models import Agent, DeviceAuthorization
from agentauth.lib import ratelimit
from agentauth.oauth import client_metadata

SIGNED_REQUEST_AGE = 600  # seconds a consent screen stays usable


def home(request):
    return redirect("portal:dashboard" if request.user.is_authenticated else "login")


def scope_rows(user, requested):
    """Requested scopes grouped by the resource server that defines them, each marked grantable or
    not, high risk off by default."""
    grantable = set(scopes.grantable_by(user, requested))
    groups = {}
    for scope in scopes.describe(requested):
        groups.setdefault(scope.resource_server.name if scope.resource_server else scope.resource, []).append(
            {
                "scope": scope,
                "grantable": scope.name in grantable,
                "checked": scope.name in grantable and scope.risk != scope.Risk.HIGH,
            }
        )
    return sorted(groups.items())


def checked_scopes(request, offered):
    """The switches left on, limited to what was offered and to what this person may grant."""
    return scopes.grantable_by(request.user, [name for name in request.POST.getlist("scope") if name in offered])


def sign_request(user, payload, purpose):
    return signing.dumps(payload, salt=f"portal:{purpose}:{user.pk}", compress=True)


def read_signed_request(user, value, purpose):
    try:
        return signing.loads(value or "", salt=f"portal:{purpose}:{user.pk}", max_age=SIGNED_REQUEST_AGE)
    except signing.BadSignature:
        return None


def _error_redirect(agent, redirect_uri, error, description, state):
    query = {"error": error, "error_description": description, "iss": settings.AGENTAUTH_ISSUER}
    if state:
        query["state"] = state
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return OAuth2ResponseRedirect(redirect_uri + separator + urlencode(query), agent.get_allowed_schemes())


@method_decorator(never_cache, name="dispatch")
class AuthorizeView(BaseAuthorizationView):
    """The authorization endpoint (RFC 6749 §4.1, OAuth 2.1): always asks the person.

    The original request travels signed, bound to the person, so nothing on the form but the
    checked scopes and the button can change what is granted.
    """

    def get(self, request, *args, **kwargs):
        repeated = [name for name, values in request.GET.lists() if len(values) > 1 and name != "resource"]
        if repeated:
            # RFC 6749 §3.1: no parameter twice. Which copy is genuine is unknowable, so no redirect.
            return render(
                request,
                "portal/error.html",
                {"error": "invalid_request", "description": f"Repeated parameters: {', '.join(sorted(repeated))}"},
                status=400,
            )
        try:
            requested, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        agent = Agent.objects.get(client_id=credentials["client_id"])
        redirect_uri, state = credentials["redirect_uri"], credentials.get("state")
        if credentials.get("code_challenge_method") != "S256":
            return _error_redirect(agent, redirect_uri, "invalid_request", "PKCE with S256 is required.", state)
        if "none" in request.GET.get("prompt", "").split():
            return _error_redirect(agent, redirect_uri, "consent_required", "The person must consent.", state)
        try:  # RFC 8707: as the agent spelled them, matched leniently, kept as registered
            named = resources.resolve(request.GET.getlist("resource"))
        except ValueError as unknown:
            return _error_redirect(agent, redirect_uri, "invalid_target", str(unknown), state)
        if named:
            credentials["resource"] = named
        payload = {"credentials": _plain(credentials), "scopes": requested}
        return self.render_consent(agent, payload)

    def handle_no_permission(self):
        """Signed out: check the request first, so no redirect ever leaves for an unchecked URI."""
        try:
            _, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        if "none" in self.request.GET.get("prompt", "").split():
            agent = Agent.objects.get(client_id=credentials["client_id"])
            return _error_redirect(
                agent, credentials["redirect_uri"], "login_required", "Sign-in needed.", credentials.get("state")
            )
        return super().handle_no_permission()

    def post(self, request, *args, **kwargs):
        payload = read_signed_request(request.user, request.POST.get("request"), "authorize")
        if payload is None:
            return render(request, "portal/expired.html", status=400)
        credentials = payload["credentials"]
        agent = Agent.objects.filter(client_id=credentials["client_id"]).first()
        if agent is None or not agent.is_active:
            return render(request, "portal/expired.html", status=400)
        checked = checked_scopes(request, payload["scopes"])
        allow = "allow" in request.POST
        if allow and not checked:
            return self.render_consent(agent, payload, error="Switch on at least one permission, or choose Deny.")
        try:
            with transaction.atomic():
                if allow:
                    grants.grant(request.user, agent, checked, via=GrantChange.Via.CONSENT)
                uri, headers, body, status = self.create_authorization_response(
                    request=request, scopes=" ".join(checked), credentials=credentials, allow=allow
                )
        except OAuthToolkitError as error:
            return self.error_response(error, agent)
        return self.redirect(uri, agent)

    def redirect(self, redirect_to, application):
        """RFC 9207 §2: every authorization response names its issuer, errors included (a Deny,
        a refused `plain` challenge); DOT's error redirects leave it out."""
        if "iss" not in parse_qs(urlsplit(redirect_to).query):
            redirect_to += ("&" if urlsplit(redirect_to).query else "?") + urlencode({"iss": settings.AGENTAUTH_ISSUER})
        return super().redirect(redirect_to, application)

    def render_to_response(self, context, status=400):
        """Errors that must not go back to the agent (unknown agent, bad redirect URI) stop here."""
        error = context.get("error")
        description = getattr(error, "description", "")
        unusable = client_metadata.failure(self.request.GET.get("client_id"))
        if unusable:  # not "unknown client": the agent's own metadata document is the problem
            description = f"The agent's metadata document at that client_id could not be used: {unusable}."
        return render(
            self.request,
            "portal/error.html",
            {"error": getattr(error, "error", "invalid_request"), "description": description},
            status=status,
        )

    def render_consent(self, agent, payload, error=None):
        redirect_host = urlsplit(payload["credentials"]["redirect_uri"]).netloc
        context = {
            "agent": agent,
            "groups": scope_rows(self.request.user, payload["scopes"]),
            "signed_request": sign_request(self.request.user, payload, "authorize"),
            "redirect_host": redirect_host,
            "error": error,
            "action": self.request.path,
        }
        return render(self.request, "portal/authorize.html", context, status=400 if error else 200)


def _plain(credentials):
    """Credentials as JSON-safe values (oauthlib hands some back as lists or None)."""
    keep = (
        "client_id",
        "redirect_uri",
        "response_type",
        "state",
        "code_challenge",
        "code_challenge_method",
        "resource",
    )
    return {key: credentials[key] for key in keep if credentials.get(key) is not None}


def _normalise_user_code(value):
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())[:32]


@method_decorator(login_required, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class DeviceView(View):
    """RFC 8628 §3.3: the person types the code the agent shows, sees the agent, then consents."""

    template_name = "portal/device.html"

    def get(self, request):
        return render(request, self.template_name, {"user_code": _normalise_user_code(request.GET.get("user_code"))})

    def post(self, request):
        if "request" in request.POST:
            return self.decide(request)
        refused = throttled_page(
            request,
            ("device_code", f"device:user:{request.user.pk}"),
            ("device_code", f"device:ip:{request.META.get('REMOTE_ADDR', '')}"),
        )
        if refused:
            return refused
        user_code = _normalise_user_code(request.POST.get("user_code"))
        device = self._pending(user_code)
        if device is None:
            error = "That code is not valid or has expired. Check the code your agent shows."
            return render(request, self.template_name, {"user_code": user_code, "error": error}, status=400)
        return self.render_consent(device)

    def _pending(self, user_code):
        device = DeviceAuthorization.objects.filter(
            user_code=user_code, status=DeviceAuthorization.AUTHORIZATION_PENDING, expires__gt=timezone.now()
        ).first()
        if device is None:
            return None
        agent = Agent.objects.filter(client_id=device.client_id).first()
        return device if agent is not None and agent.is_active else None

    def render_consent(self, device, error=None):
        agent = Agent.objects.get(client_id=device.client_id)
        requested = device.scope.split()
        context = {
            "agent": agent,
            "groups": scope_rows(self.request.user, requested),
            "signed_request": sign_request(self.request.user, {"device": device.pk, "scopes": requested}, "device"),
            "device": True,
            "error": error,
            "action": self.request.path,
        }
        return render(self.request, "portal/authorize.html", context, status=400 if error else 200)

    def decide(self, request):
        payload = read_signed_request(request.user, request.POST.get("request"), "device")
        if payload is None:
            return render(request, "portal/expired.html", status=400)
        device = DeviceAuthorization.objects.filter(pk=payload["device"]).first()
        agent = Agent.objects.filter(client_id=device.client_id).first() if device else None
        if device is None or agent is None:
            return render(request, "portal/expired.html", status=400)
        checked = checked_scopes(request, payload["scopes"])
        allow = "allow" in request.POST
        if allow and not checked:
            return self.render_consent(device, error="Switch on at least one permission, or choose Deny.")
        with transaction.atomic():
            # Compare-and-swap: the code is decided once, by one person, while still pending.
            pending = DeviceAuthorization.objects.filter(
                pk=device.pk, status=DeviceAuthorization.AUTHORIZATION_PENDING, expires__gt=timezone.now()
            )
            if allow:
                updated = pending.update(
                    status=DeviceAuthorization.AUTHORIZED, user=request.user, scope=" ".join(checked)
                )
                if updated:
                    grants.grant(request.user, agent, checked, via=GrantChange.Via.DEVICE)
            else:
                updated = pending.update(status=DeviceAuthorization.DENIED, user=request.user)
        if not updated:
            return render(request, "portal/expired.html", status=409)
        return render(request, "portal/device_done.html", {"agent": agent, "allowed": allow, "scopes": checked})


class ThrottledLoginView(LoginView):
    """Django's sign-in, with token buckets per username and per IP against password guessing."""

    def post(self, request, *args, **kwargs):
        account = request.POST.get("username", "")[:150]
        refused = throttled_page(request, *ratelimit.password_checks(account, request.META.get("REMOTE_ADDR", "")))
        return refused or super().post(request, *args, **kwargs)


def throttled_page(request, *buckets):
    """The HTML twin of agentauth.oauth.protocol.throttled: a 429 page with Retry-After."""
    try:
        wait = ratelimit.retry_after(buckets)
    except ratelimit.RateLimitUnavailable:
        return render(request, "portal/slow_down.html", {"wait": 5}, status=503)
    if wait is None:
        return None
    response = render(request, "portal/slow_down.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response
