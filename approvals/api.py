"""JSON endpoints: the agent's view of its approval (bearer token, with long-polling), the person's
decision (session + CSRF), and the DRF helper that turns a critical request into 202 Accepted."""

import asyncio
import contextlib
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

from agentauth.api import bearer_challenge, resource_metadata_url
from agentauth.revocation import RevocationUnavailable
from agentauth.schema import errors
from agentauth.tokens import InvalidToken, verify_access_token

from . import events, services
from .models import AlreadyDecided, ApprovalRequest

# A long-poll holds while the approval is in one of these, until the status moves on.
WAITING = {ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED}
# How often a parked long-poll re-reads the database in case the channel layer dropped a push.
RECHECK_SECONDS = 5.0


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


def agent_view(approval):
    """What the agent may know of its approval: the outcome, never who decided."""
    body = {
        "approval_id": approval.pk,
        "status": approval.effective_status,
        "action": approval.action,
        "authorization_details": approval.authorization_details,
        "expires_at": approval.expires_at.isoformat(),
        "interval": settings.APPROVAL_POLL_INTERVAL,
    }
    if approval.effective_status == ApprovalRequest.Status.EXECUTED:
        body["result"] = approval.result
    if approval.effective_status in (ApprovalRequest.Status.FAILED, ApprovalRequest.Status.CANCELLED):
        body["reason"] = approval.reason
    if approval.effective_status == ApprovalRequest.Status.DENIED and approval.reason:
        body["reason"] = approval.reason
    return body


def _unauthorized(error, description):
    response = JsonResponse({"error": error, "error_description": description}, status=401)
    response["WWW-Authenticate"] = bearer_challenge(error=error, resource_metadata=resource_metadata_url())
    return response


@sync_to_async
def _authenticate(request):
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw:
        return None
    return verify_access_token(raw.strip())


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


@require_GET
async def approval_status(request, approval_id):
    """GET status_url[?wait=N]: answers at once, or holds up to N seconds for a decision."""
    try:
        claims = await _authenticate(request)
    except InvalidToken:
        return _unauthorized("invalid_token", "The access token is invalid, expired or revoked.")
    except RevocationUnavailable:
        return JsonResponse({"error": "temporarily_unavailable"}, status=503)
    if claims is None:
        return _unauthorized("invalid_token", "An access token is required.")
    approval = await _load(approval_id, claims)
    if approval is None:
        return JsonResponse({"error": "not_found"}, status=404)
    try:
        wait = min(max(float(request.GET.get("wait", 0)), 0.0), settings.APPROVAL_MAX_WAIT)
    except ValueError:
        return JsonResponse({"error": "invalid_request", "error_description": "wait must be seconds"}, status=400)
    if wait and approval.effective_status in WAITING:
        approval = await _wait_for_change(approval, claims, wait)
    response = JsonResponse(agent_view(approval))
    response["Cache-Control"] = "no-store"
    return response


async def _wait_for_change(approval, claims, wait):
    """Hold until the approval's status changes (pending → decided, approved → executed or
    failed), it expires, or `wait` runs out.

    A push on the approval's group wakes us at once; the database is re-read every few seconds
    as well, because the channel layer may drop messages.
    """
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = events.approval_group(approval.pk)
    await layer.group_add(group, channel)
    started_as = approval.effective_status
    deadline = time.monotonic() + min(wait, max((approval.expires_at - timezone.now()).total_seconds(), 0) + 0.5)
    listener = Listener(layer, channel)
    try:
        while True:
            approval = await _load(approval.pk, claims)
            remaining = deadline - time.monotonic()
            if approval is None or approval.effective_status != started_as or remaining <= 0:
                return approval
            await listener.wait(min(remaining, RECHECK_SECONDS))
    finally:
        await layer.group_discard(group, channel)
        await listener.close()


class Listener:
    """A channel's receive(), kept running across waits and ended by a message to itself.

    Never cancelled, because channels_redis reads all of a process's messages through whichever
    receive() holds its lock: cancelling that one mid-read loses a message that can belong to any
    channel of the process, a person's open tab included (django/channels#1683). Long-polls timing
    out every few seconds did exactly that: about 2 pushes in 1,000 never reached the person.
    """

    STOP_GRACE_SECONDS = 2.0

    def __init__(self, layer, channel):
        self.layer, self.channel, self.receiving = layer, channel, None

    async def wait(self, timeout):
        """Return when a message arrives or `timeout` seconds pass; True if one arrived."""
        if self.receiving is None:
            self.receiving = asyncio.ensure_future(self.layer.receive(self.channel))
        done, _ = await asyncio.wait({self.receiving}, timeout=timeout)
        if not done:
            return False
        received, self.receiving = self.receiving, None
        received.result()  # a failed receive (Redis gone) raises here, as the awaited call would
        return True

    async def close(self):
        if self.receiving is None:
            return
        with contextlib.suppress(Exception):  # Redis gone: nothing is in flight to lose
            await self.layer.send(self.channel, {"type": "listener.stop"})
            await asyncio.wait({self.receiving}, timeout=self.STOP_GRACE_SECONDS)
        if not self.receiving.done():
            self.receiving.cancel()  # the process is far behind on its inbox: the lesser evil
        elif not self.receiving.cancelled():
            self.receiving.exception()  # seen, so asyncio does not log it: the wait is over anyway


class Decision(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "deny"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DecisionCreate(APIView):
    """POST {"decision": "approve" | "deny", "reason"?} as the signed-in person (session + CSRF)."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=Decision, responses={200: dict, **errors(400, 401, 403, 404, 409)})
    def post(self, request, approval_id):
        approval = ApprovalRequest.objects.select_related("agent").filter(pk=approval_id, user=request.user).first()
        if approval is None:
            return Response({"error": "not_found"}, status=404)
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
            services.decide(approval, approve=decision == "approve", by=request.user, reason=reason)
        except AlreadyDecided as lost:
            return Response({"error": lost.error, "status": lost.status}, status=409)
        return Response({"approval": events.serialize(approval)})


def needs_fresh_sign_in(request, approval):
    """High-risk approvals need a sign-in no older than APPROVAL_REAUTH_SECONDS (AP-09)."""
    if approval.risk != "high":
        return False
    signed_in_at = request.session.get("auth_time", 0)
    return time.time() - signed_in_at > settings.APPROVAL_REAUTH_SECONDS
