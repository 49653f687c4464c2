"""The passkeys page, and the JSON steps of its ceremonies that the page's script calls.

Every step that checks a passkey spends from the same buckets as a password check, so a passkey
is no side door around the sign-in limits.
"""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from agentauth.audit import trail
from agentauth.lib import ratelimit
from agentauth.oauth.protocol import throttled

from . import ceremonies, freshness
from .models import Passkey


def _error(status, error, description):
    return JsonResponse({"error": error, "error_description": description}, status=status)


def _body(request):
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _throttled(request, account=None):
    """429 when the account's or the address's sign-in bucket is empty (the address's alone when
    no account is known yet), 503 when the limiter cannot tell."""
    buckets = ratelimit.password_checks(account or "", request.META.get("REMOTE_ADDR", ""))
    return throttled(*(buckets if account else buckets[1:]))


@login_required
@never_cache
def page(request):
    return render(
        request,
        "passkeys/passkeys.html",
        {"passkeys": Passkey.objects.filter(user=request.user), "fresh": freshness.is_fresh(request)},
    )


@require_POST
@never_cache
def options(request, purpose):
    """PublicKeyCredentialCreationOptions or RequestOptions JSON for one ceremony."""
    if purpose not in ceremonies.PURPOSES:
        return _error(404, "not_found", "No such ceremony.")
    if purpose == "sign-in":
        # Anonymous, and it writes a session: the address's sign-in bucket pays for it.
        refused = _throttled(request)
        return refused or HttpResponse(ceremonies.authentication_options(request, purpose), "application/json")
    if not request.user.is_authenticated:
        return _error(401, "login_required", "Sign in first.")
    if purpose == "confirm":
        return HttpResponse(ceremonies.authentication_options(request, purpose, request.user), "application/json")
    if not freshness.is_fresh(request):
        # A stolen session must not be able to add its own way back in.
        return _error(401, "reauthentication_required", "Sign in again to add a passkey.")
    return HttpResponse(ceremonies.registration_options(request), "application/json")


@login_required
@require_POST
def add(request):
    body = _body(request)
    if body is None or not isinstance(body.get("credential"), dict):
        return _error(400, "invalid_request", "Send {credential, name} as JSON.")
    refused = _throttled(request, request.user.get_username())
    if refused:
        return refused
    if not freshness.is_fresh(request):
        return _error(401, "reauthentication_required", "Sign in again to add a passkey.")
    try:
        passkey = ceremonies.register(request, body["credential"], str(body.get("name") or ""))
    except ceremonies.Refused as refused:
        return _error(400, "invalid_request", str(refused))
    return JsonResponse({"id": passkey.pk, "name": passkey.name}, status=201)


@require_POST
@never_cache
def sign_in(request):
    body = _body(request)
    if body is None:
        return _error(400, "invalid_request", "Send {credential, next} as JSON.")
    try:
        credential = ceremonies.assertion(body.get("credential"))
    except ceremonies.Refused as refused:
        return _error(400, "invalid_request", str(refused))
    passkey = ceremonies.claimed_passkey(credential)
    account = passkey.user.get_username() if passkey is not None else credential.id[:100]
    refused = _throttled(request, account)
    if refused:
        return refused
    try:
        if passkey is not None and not passkey.user.is_active:
            raise ceremonies.Refused("This account is disabled.")
        ceremonies.authenticate(request, "sign-in", credential, passkey)
    except ceremonies.Refused as refused:
        trail.record("signin.failure", outcome="failure", details={"method": "passkey", "why": str(refused)[:200]})
        return _error(400, "access_denied", str(refused))
    request.signin_method = "passkey"
    login(request, passkey.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    target = body.get("next")
    if not (isinstance(target, str) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})):
        target = reverse("portal:dashboard")
    return JsonResponse({"redirect": target})


@login_required
@require_POST
def remove(request, passkey_id):
    removed = ceremonies.remove(request.user, passkey_id)
    if removed is not None:
        messages.success(request, f"Removed “{removed.name}”. It can no longer sign you in.")
    return redirect("passkeys:page")
