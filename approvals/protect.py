"""`RequiresApproval`: a protected API declares its critical action, and POST waits for the person.

    class Payments(RequiresApproval, APIView):
        critical_action = PAY  # an approvals.actions.Action instance

POST validates the body with `critical_action.Request`, opens an approval through the state machine and
answers 202 Accepted with the agent's status URL; when the action's policy does not ask the
person, or the bearer is a CIBA token for exactly this, it runs at once (201). Either way it runs
through `services.redeem`, once. The view needs no `required_scopes` entry for POST: it is the
action's scope.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from agentauth.resource.schema import errors

from . import services
from .api import accepted
from .models import ApprovalRequest

MAX_IDEMPOTENCY_KEY = 200


class Accepted(serializers.Serializer):
    approval_id = serializers.CharField()
    status = serializers.CharField()
    status_url = serializers.URLField()
    expires_at = serializers.DateTimeField()
    interval = serializers.IntegerField()


def _problem(status, error, description=None):
    body = {"error": error} | ({"error_description": description} if description else {})
    return Response(body, status=status)


class RequiresApproval:
    """DRF APIView mixin: POST is `critical_action`, run once its person (or their policy) approves it."""

    critical_action = None  # not `action`: DRF viewsets use that name

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        action = cls.critical_action
        if action is None:
            return
        declared = getattr(cls, "required_scopes", None) or {}
        cls.required_scopes = {**declared, "POST": [action.scope]}
        extend_schema_view(
            post=extend_schema(
                request=action.Request,
                responses={201: action.Result or dict, 202: Accepted, **errors(400, 401, 403, 409, 429, 503)},
                parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
            )
        )(cls)

    def post(self, request, *args, **kwargs):
        action = self.critical_action
        incoming = action.Request(data=request.data)
        incoming.is_valid(raise_exception=True)
        params = action.params(incoming.validated_data)
        if request.auth.raw.get("authorization_details"):
            return self._redeem_ciba_token(request, params)
        key = request.headers.get("Idempotency-Key", "")
        if len(key) > MAX_IDEMPOTENCY_KEY:
            return _problem(400, "invalid_request", "Idempotency-Key is too long.")
        try:
            approval, _ = services.request_approval(
                user=request.user.person,
                agent=request.user.agent,
                action=action,
                params=params,
                idempotency_key=key,
                token_jti=request.auth.jti,
            )
        except services.IdempotencyConflict:
            return _problem(409, "idempotency_key_reused", "That key was used for another request.")
        if approval.automatic and approval.status == ApprovalRequest.Status.APPROVED:
            approval, _ = services.redeem(approval.pk)  # the person's policy said yes: no need to wait
        if approval.status == ApprovalRequest.Status.EXECUTED:
            return self._ran(approval)
        return accepted(approval)

    def _redeem_ciba_token(self, request, params):
        """A CIBA token is good for one action: exactly the one its person approved."""
        try:
            approval, ran = services.redeem_token(request.auth.jti, self.critical_action, params)
        except services.Mismatch:
            return _problem(403, "approval_mismatch", "This token was approved for another action.")
        if not ran:
            return _problem(409, "already_consumed")
        if approval.status != ApprovalRequest.Status.EXECUTED:
            return _problem(409, "action_failed", approval.reason)
        return self._ran(approval)

    def _ran(self, approval):
        return Response({**self.critical_action.present(approval), "status": approval.status}, status=201)
