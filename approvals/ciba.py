"""OpenID CIBA Core 1.0 on the approval machinery: the person sees these requests in the same inbox.

The backchannel endpoint opens an approval (source "ciba"); the token endpoint's CIBA grant answers
authorization_pending / slow_down / access_denied / expired_token, and once approved issues one
short-lived token whose scope and authorization_details are exactly what the person approved.
"""

import secrets
import time
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from agentauth.consent import grants
from agentauth.identity import rar, scopes, tokens
from agentauth.identity.models import CIBA, Agent
from agentauth.lib import numbers, ratelimit, text
from agentauth.oauth.binding import token_client
from agentauth.oauth.protocol import authenticated_agent, form_problem, invalid_client, oauth_error, register_grant

from . import actions, services
from .models import ApprovalRequest

MAX_BINDING_MESSAGE = 64
SLOW_DOWN_STEP = 5


class Authorization(actions.Action):
    """What a CIBA client asks a person for: scopes and authorization details, for one token.
    The person sees every scope and every detail in full; the token carries exactly those."""

    name = "ciba.authorize"

    def scope_for(self, params):
        # The riskiest scope names the approval; the facts list every one.
        return max(params["scope"], key=lambda name: scopes.RISK_ORDER.index(scopes.risk_of([name])), default="")

    def risk(self, params):
        return scopes.riskiest([scopes.risk_of(params["scope"]), *rar.risk(params["authorization_details"])])

    def describe(self, params):
        return rar.describe(params["authorization_details"]) or f"Let the agent use {' '.join(params['scope'])}"

    def facts(self, params):
        access = [
            ("Access", f"{scope.description} ({scope.name}, {scope.risk} risk)")
            for scope in scopes.describe(params["scope"])
        ]
        return access + rar.facts(params["authorization_details"])

    def authorization_details(self, params):
        return params["authorization_details"]

    def binding_message(self, params):
        return params["binding_message"]

    def needs_person(self, user, agent, params):
        return True  # the person is the point of CIBA, whatever their policies say

    def run(self, approval, params):
        # It runs nothing by itself: its token does, once, at the API that receives it.
        raise actions.ActionFailed("CIBA approvals are redeemed by their token.")


AUTHORIZATION = actions.register(Authorization())


def _binding_message_ok(message):
    return len(message) <= MAX_BINDING_MESSAGE and all(
        unicodedata.category(char)[0] in "LNPSZ" and unicodedata.category(char) not in ("Zl", "Zp") for char in message
    )


def _phantom_key(auth_req_id):
    return f"agentauth:ciba:phantom:{auth_req_id}"


@method_decorator(csrf_exempt, name="dispatch")
class BackchannelAuthentication(View):
    """POST /o/bc-authorize (CIBA §7): an agent asks a person to authorize something."""

    def post(self, request):
        problem = form_problem(request)
        if problem:
            return oauth_error("invalid_request", problem)
        agent = authenticated_agent(request)
        if agent is None:
            return invalid_client()
        if not agent.is_active or CIBA not in agent.grant_types or agent.client_type != Agent.CLIENT_CONFIDENTIAL:
            return oauth_error("unauthorized_client", "This agent may not use CIBA.")
        params = request.POST
        hints = [name for name in ("login_hint", "id_token_hint", "login_hint_token") if params.get(name)]
        if len(hints) != 1:
            return oauth_error("invalid_request", "Send exactly one of login_hint, id_token_hint, login_hint_token.")
        if hints[0] != "login_hint":
            return oauth_error("invalid_request", "Only login_hint is supported.")
        requested = scopes.parse(params.get("scope", "").replace("openid", "").strip())
        if "openid" not in params.get("scope", "").split() or requested is None:
            return oauth_error("invalid_scope", "CIBA needs the openid scope plus well-formed resource scopes.")
        if not set(requested) <= set(scopes.available_to(agent)):
            return oauth_error("invalid_scope", "This agent may not ask for those scopes.")
        binding_message = params.get("binding_message", "")
        if not _binding_message_ok(binding_message):
            return oauth_error("invalid_binding_message", f"At most {MAX_BINDING_MESSAGE} printable characters.")
        try:
            expiry = numbers.whole(
                params.get("requested_expiry") or str(settings.CIBA_DEFAULT_EXPIRY),
                low=10,
                high=settings.CIBA_MAX_EXPIRY,
            )
        except numbers.Invalid as error:
            return oauth_error("invalid_request", f"requested_expiry, in seconds: {error}.")
        try:
            details = rar.parse(params["authorization_details"]) if params.get("authorization_details") else []
        except rar.InvalidDetails as error:
            return oauth_error("invalid_authorization_details", str(error))
        if not requested and not details:
            return oauth_error("invalid_scope", "Ask for at least one scope or authorization detail.")
        notification_token = params.get("client_notification_token", "")
        if agent.ciba_delivery_mode == "ping" and not (0 < len(notification_token) <= 500):
            return oauth_error("invalid_request", "Ping mode needs a client_notification_token.")
        hint = params["login_hint"][:150]
        person = _person(hint)
        # Every spelling of a hint shares a bucket, whether or not it names anyone; a person's own
        # bucket also counts requests that name them by id and by username.
        buckets = [f"ciba:hint:{text.account_key(hint)}"] + ([f"ciba:person:{person.pk}"] if person else [])
        refused = _flooded(buckets)
        if refused:
            return refused
        if person is None:
            # Unknown people look exactly like people who never answer: a pending request that expires.
            auth_req_id = secrets.token_urlsafe(32)
            cache.set(
                _phantom_key(auth_req_id),
                {"client_id": agent.client_id, "expires": time.time() + expiry},
                timeout=expiry + 60,
            )
        else:
            params = {
                "scope": scopes.grantable_by(person, requested),  # what the person may grant is what they see
                "authorization_details": details,
                "binding_message": binding_message,
            }
            approval, _ = services.request_approval(
                user=person,
                agent=agent,
                action=AUTHORIZATION,
                params=params,
                source="ciba",
                ttl=timedelta(seconds=expiry),
                notification_token=notification_token,
            )
            auth_req_id = approval.pk
        response = JsonResponse(
            {"auth_req_id": auth_req_id, "expires_in": expiry, "interval": settings.APPROVAL_POLL_INTERVAL}
        )
        response["Cache-Control"] = "no-store"
        return response


def _person(hint):
    """The active person a login_hint names: an id in ASCII digits, or a username as typed."""
    people = get_user_model().objects.filter(is_active=True)
    name = text.account_name(hint)
    return (people.filter(pk=int(name)) if numbers.is_id(name) else people.filter(username=name)).first()


def _flooded(buckets):
    """slow_down (429) once a person, however spelled, was asked too often (CIBA_RATE_PER_PERSON)."""
    try:
        for key in buckets:
            allowed, wait = ratelimit.take(key, settings.CIBA_RATE_PER_PERSON)
            if not allowed:
                headers = {"Retry-After": str(max(1, round(wait)))}
                return oauth_error("slow_down", "Too many requests for this person.", 429, headers=headers)
    except ratelimit.RateLimitUnavailable:
        return oauth_error("temporarily_unavailable", status=503)
    return None


def _too_fast(auth_req_id):
    """CIBA §7.3 / RFC 8628: polling faster than the interval answers slow_down and adds 5 seconds."""
    key = f"agentauth:ciba:poll:{auth_req_id}"
    try:
        last = cache.get(key) or {"at": 0, "interval": settings.APPROVAL_POLL_INTERVAL}
        now = time.time()
        too_fast = now - last["at"] < last["interval"]
        interval = last["interval"] + SLOW_DOWN_STEP if too_fast else last["interval"]
        cache.set(key, {"at": now, "interval": interval}, timeout=settings.CIBA_MAX_EXPIRY + 60)
        return too_fast
    except Exception:
        return False  # without the cache, poll timing is not enforced; the request stays correct


def token_grant(request):
    """grant_type=urn:openid:params:grant-type:ciba at the token endpoint (CIBA §10, §11)."""
    agent, refused = token_client(request)
    if refused is not None:
        return refused
    auth_req_id = request.POST.get("auth_req_id", "")[:100]
    approval = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("user", "agent")
        .filter(pk=auth_req_id, source="ciba", agent=agent)
        .first()
    )
    if approval is None:
        phantom = cache.get(_phantom_key(auth_req_id)) if auth_req_id else None
        if not phantom or phantom["client_id"] != agent.client_id:
            return oauth_error("invalid_grant", "Unknown auth_req_id for this client.")
        if time.time() >= phantom["expires"]:
            return oauth_error("expired_token")
        return oauth_error("slow_down" if _too_fast(auth_req_id) else "authorization_pending")
    status = approval.effective_status
    if status == ApprovalRequest.Status.PENDING:
        return oauth_error("slow_down" if _too_fast(auth_req_id) else "authorization_pending")
    if status == ApprovalRequest.Status.EXPIRED:
        return oauth_error("expired_token")
    if status in (ApprovalRequest.Status.DENIED, ApprovalRequest.Status.CANCELLED):
        return oauth_error("access_denied", approval.reason or None)
    # Approved: exactly one token (the row is locked), for exactly what the person approved.
    if approval.redeemed_at or status != ApprovalRequest.Status.APPROVED:
        return oauth_error("invalid_grant", "This auth_req_id was already used.")
    granted = scopes.grantable_by(approval.user, approval.params.get("scope", []))
    details = approval.params.get("authorization_details", [])
    raw, claims = tokens.issue(
        user=approval.user,
        agent=agent,
        scopes=granted,
        extra_claims={"authorization_details": details} if details else None,
        lifetime=settings.CIBA_TOKEN_SECONDS,
        grant_type="ciba",
    )
    services.hand_out_token(approval, claims["jti"])
    grants.recognise(approval.user, agent)
    body = {
        "access_token": raw,
        "token_type": "Bearer",
        "expires_in": settings.CIBA_TOKEN_SECONDS,
        "scope": claims["scope"],
    }
    if details:
        body["authorization_details"] = details
    return JsonResponse(body)


def _metadata(issuer):
    return {
        "backchannel_authentication_endpoint": issuer + reverse("approvals:ciba"),
        "backchannel_token_delivery_modes_supported": ["poll", "ping"],
        "backchannel_user_code_parameter_supported": False,
    }


register_grant(CIBA, token_grant, metadata=_metadata)
