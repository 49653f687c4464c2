"""JSON endpoints: the agent's view of its approval (bearer token, with long-polling), the person's
decision (session + CSRF), and the DRF helper that turns a critical request into 202 Accepted."""

import contextlib
import logging
import time

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agentauth.identity import dpop
from agentauth.identity.revocation import RevocationUnavailable
from agentauth.identity.tokens import InvalidToken
from agentauth.lib import numbers
from agentauth.lib.channel_reads import ChannelReader
from agentauth.resource.authentication import presented_token
from agentauth.resource.errors import bearer_challenge, dpop_challenge, resource_metadata_url
from agentauth.resource.schema import errors
from passkeys import freshness

from . import lookups, services
from .cards import agent_view, card
from .groups import APPROVAL_ID, approval_group
from .models import AlreadyDecided, ApprovalRequest

log = logging.getLogger(__name__)

# A long-poll holds while the approval is in one of these, until the status moves on.
WAITING = {ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED}
# How often a parked long-poll re-reads the database in case the channel layer dropped a push.
RECHECK_SECONDS = 5.0
# How many of its latest approvals an agent's list shows.
LIST_LIMIT = 100


def status_url(approval):
    return settings.AGENTAUTH_ISSUER + reverse("approvals:status", args=[approval.pk])


def accepted(approval):
    """202 Accepted for an action waiting for its person (what an API returns instead of acting)."""
    body = {
        "approval_id": approval.pk,
        "status": approval.effective_status,
        "status_url": status_url(approval),
        "expires_at": approval.expires_at.isoformat(),
        "interval": settings.APPROVAL_POLL_INTERVAL,
    }
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


def _unauthorized(error, description):
    response = JsonResponse({"error": error, "error_description": description}, status=401)
    response["WWW-Authenticate"] = bearer_challenge(error=error, resource_metadata=resource_metadata_url())
    return response


_authenticate = sync_to_async(presented_token)


@sync_to_async
def _load(approval_id, claims):
    # Scoped to the agent and person of the token: anyone else gets the same 404 (AP-04).
    try:
        return (
            ApprovalRequest.objects.select_related("agent")
            .filter(pk=approval_id, agent__client_id=claims.client_id, user_id=claims.subject)
            .first()
        )
    finally:
        # A long-poll holds its request for up to 30 s: give the pooled connection back between
        # reads, or thirty parked agents would exhaust the pool (not inside a caller's transaction).
        if not connection.in_atomic_block:
            connection.close()


async def _view(approval_id, claims):
    approval = await _load(approval_id, claims)
    return agent_view(approval) if approval is not None else None


async def _caller(request):
    """(claims, None) for the agent's token in the request, or (None, the refusal to send)."""
    try:
        claims = await _authenticate(request)
    except InvalidToken:
        return None, _unauthorized("invalid_token", "The access token is invalid, expired or revoked.")
    except dpop.ProofError as refusal:
        response = JsonResponse({"error": refusal.error, "error_description": refusal.description}, status=401)
        response["WWW-Authenticate"] = dpop_challenge(error=refusal.error)
        if isinstance(refusal, dpop.NonceRequired):
            response["DPoP-Nonce"] = dpop.new_nonce()
        return None, response
    except (RevocationUnavailable, dpop.ReplayCacheUnavailable):
        return None, JsonResponse({"error": "temporarily_unavailable"}, status=503)
    if claims is None:
        return None, _unauthorized("invalid_token", "An access token is required.")
    return claims, None


@require_GET
async def approval_list(request):
    """GET /api/v1/approvals/[?status=S]: the calling agent's latest approvals for the token's
    person, newest first (what `agentauth approvals` shows)."""
    claims, refusal = await _caller(request)
    if refusal:
        return refusal
    wanted = request.GET.get("status") or None
    if wanted is not None and wanted not in ApprovalRequest.Status.values:
        choices = ", ".join(ApprovalRequest.Status.values)
        return JsonResponse({"error": "invalid_request", "error_description": f"status: one of {choices}"}, status=400)
    approvals = await _latest(claims)
    results = [
        agent_view(approval) | {"status_url": status_url(approval), "created_at": approval.created_at.isoformat()}
        for approval in approvals
        if wanted is None or approval.effective_status == wanted
    ]
    response = JsonResponse({"results": results})
    response["Cache-Control"] = "no-store"
    return response


@sync_to_async
def _latest(claims, limit=LIST_LIMIT):
    try:
        return list(
            ApprovalRequest.objects.select_related("agent").filter(
                agent__client_id=claims.client_id, user_id=claims.subject
            )[:limit]
        )
    finally:
        if not connection.in_atomic_block:
            connection.close()


@require_GET
async def approval_status(request, approval_id):
    """GET status_url[?wait=N]: answers at once, or holds up to N seconds for a decision."""
    claims, refusal = await _caller(request)
    if refusal:
        return refusal
    try:
        # Any sane number of seconds is accepted and capped (the cap is the server's to change).
        wait = min(float(numbers.number(request.GET.get("wait", "0"), low=0, high=3600)), settings.APPROVAL_MAX_WAIT)
    except numbers.Invalid as error:
        return JsonResponse({"error": "invalid_request", "error_description": f"wait: {error}"}, status=400)
    if wait and APPROVAL_ID.fullmatch(approval_id):
        view = await _view_after_a_change(approval_id, claims, wait)
    else:
        view = await _view(approval_id, claims)
    if view is None:  # not this agent's and person's, or never was (AP-04), or deleted meanwhile
        return JsonResponse({"error": "not_found"}, status=404)
    response = JsonResponse(view)
    response["Cache-Control"] = "no-store"
    return response


async def _view_after_a_change(approval_id, claims, wait):
    """What the agent may know of its approval (the agent_view) once its status changes (pending
    → decided, approved → executed or failed), it expires, or `wait` runs out; None if it is not
    theirs or is gone. A decided approval answers at once.

    We join the approval's group before the first read, so a change after that read is pushed to
    us. A push carries the view of the committed change, so answering takes no query: in a burst
    of decisions, queries were what the woken long-polls queued for. The database answers again
    every few seconds, and after a wake without a view, because pushes can be dropped.
    """
    layer, group = get_channel_layer(), approval_group(approval_id)
    try:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
    except Exception:  # the channel layer is down: answer as a plain poll would
        log.warning("a long-poll answers at once: the channel layer is unavailable", exc_info=True)
        return await _view(approval_id, claims)
    reader = ChannelReader(layer, channel)  # never cancels a receive: see agentauth.lib.channel_reads
    try:
        approval = await _load(approval_id, claims)
        if approval is None:
            return None
        view = agent_view(approval)
        started_as = view["status"]
        if started_as not in WAITING:
            return view
        deadline = time.monotonic() + min(wait, max((approval.expires_at - timezone.now()).total_seconds(), 0) + 0.5)
        while view is not None and view["status"] == started_as and (remaining := deadline - time.monotonic()) > 0:
            try:
                pushed = (await reader.wait(min(remaining, RECHECK_SECONDS)) or {}).get("view")
            except Exception:  # the channel layer failed while we waited: the database answers
                log.warning("a long-poll answers early: the channel layer failed", exc_info=True)
                return await _view(approval_id, claims)
            view = pushed if pushed and pushed.get("approval_id") == approval_id else await _view(approval_id, claims)
        return view
    finally:
        with contextlib.suppress(Exception):  # the group's entry expires on its own
            await layer.group_discard(group, channel)
        await reader.close()


class Decision(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "deny"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DecisionCreate(APIView):
    """POST {"decision": "approve" | "deny", "reason"?} as the signed-in person (session + CSRF)."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=Decision, responses={200: dict, **errors(400, 401, 403, 404, 409)})
    def post(self, request, approval_id):
        approval = lookups.persons_approval.one(pk=approval_id, user=request.user.pk)
        if approval is None:
            return Response({"error": "not_found"}, status=404)
        lookups.with_people(approval, request.user)
        decision = request.data.get("decision") if isinstance(request.data, dict) else None
        reason = request.data.get("reason", "") if isinstance(request.data, dict) else ""
        if decision not in ("approve", "deny") or not isinstance(reason, str):
            return Response({"error": "invalid_request", "error_description": "decision: approve or deny"}, status=400)
        if decision == "approve" and needs_fresh_sign_in(request, approval):
            return Response(
                {"error": "reauthentication_required", "reauth_url": reverse("approvals:reauth", args=[approval.pk])},
                status=401,
            )
        try:
            services.decide(
                approval, approve=decision == "approve", by=request.user, reason=reason, proof=freshness.proof(request)
            )
        except AlreadyDecided as lost:
            return Response({"error": lost.error, "status": lost.status}, status=409)
        return Response({"approval": card(approval)})


def needs_fresh_sign_in(request, approval):
    """High-risk approvals need a sign-in or step-up no older than APPROVAL_REAUTH_SECONDS (AP-09)."""
    return approval.risk == "high" and not freshness.is_fresh(request)
