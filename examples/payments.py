"""The example payments API: every payment is a critical action that waits for its person."""

from decimal import Decimal

from django.db import IntegrityError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from agentauth.identity import rar
from agentauth.resource.schema import errors
from approvals import actions, services
from approvals.api import accepted
from approvals.models import AlreadyDecided, ApprovalRequest
from approvals.policies import CURRENCIES

from .models import Payment

ACTION = "payments.create"


class PaymentRequest(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.ChoiceField(choices=CURRENCIES)
    to = serializers.CharField(max_length=140)
    memo = serializers.CharField(max_length=140, required=False, allow_blank=True, default="")


class PaymentSerializer(serializers.ModelSerializer):
    approval_id = serializers.CharField(source="approval.pk")

    class Meta:
        model = Payment
        fields = ["id", "amount", "currency", "to", "memo", "approval_id", "executed_at"]


class PaymentPage(serializers.Serializer):
    results = PaymentSerializer(many=True)


class Accepted(serializers.Serializer):
    approval_id = serializers.CharField()
    status = serializers.CharField()
    status_url = serializers.URLField()
    expires_at = serializers.DateTimeField()
    interval = serializers.IntegerField()


def authorization_details(params):
    """The RFC 9396 `payment_initiation` shape of a payment, for people and CIBA clients."""
    return [
        {
            "type": "payment_initiation",
            "instructedAmount": {"currency": params["currency"], "amount": params["amount"]},
            "creditorName": params["to"],
            "remittanceInformationUnstructured": params["memo"],
        }
    ]


def describe(approval):
    params = approval.params
    return f"Pay {params['amount']} {params['currency']} to {params['to']}"


def record_payment(approval, params):
    """Runs inside the executing transaction; the unique approval makes a second payment impossible."""
    try:
        payment = Payment.objects.create(
            owner=approval.user,
            amount=Decimal(params["amount"]),
            currency=params["currency"],
            to=params["to"],
            memo=params["memo"],
            approval=approval,
            created_by_agent=approval.agent.client_id,
        )
    except IntegrityError:
        raise actions.ActionFailed("This approval was already used for a payment.") from None
    return {"payment_id": payment.pk}


def run(approval):
    return record_payment(approval, approval.params)


actions.register(ACTION, scope="payments:execute", run=run, describe=describe)


def validate_payment_initiation(detail):
    """RFC 9396's own example type, as the CIBA endpoint accepts it."""
    allowed = {
        "type",
        "instructedAmount",
        "creditorName",
        "creditorAccount",
        "remittanceInformationUnstructured",
        "actions",
        "locations",
    }
    if set(detail) - allowed:
        raise rar.InvalidDetails(f"unknown fields: {', '.join(sorted(set(detail) - allowed))}")
    amount = detail.get("instructedAmount")
    incoming = PaymentRequest(
        data={
            "amount": amount.get("amount") if isinstance(amount, dict) else None,
            "currency": amount.get("currency") if isinstance(amount, dict) else None,
            "to": detail.get("creditorName"),
            "memo": detail.get("remittanceInformationUnstructured", ""),
        }
    )
    if not incoming.is_valid():
        raise rar.InvalidDetails(f"payment_initiation: {dict(incoming.errors)}")
    account = detail.get("creditorAccount", {})
    if not isinstance(account, dict) or any(not isinstance(v, str) or len(v) > 64 for v in account.values()):
        raise rar.InvalidDetails("creditorAccount must be an object of short strings")
    data = incoming.validated_data
    return {
        "type": "payment_initiation",
        "instructedAmount": {"currency": data["currency"], "amount": f"{data['amount']:.2f}"},
        "creditorName": data["to"],
        "creditorAccount": account,
        "remittanceInformationUnstructured": data["memo"],
    }


def describe_payment_initiation(detail):
    amount = detail["instructedAmount"]
    return f"Pay {amount['amount']} {amount['currency']} to {detail['creditorName']}"


rar.register("payment_initiation", validate=validate_payment_initiation, describe=describe_payment_initiation)


class PaymentList(APIView):
    """POST a payment (payments:execute, waits for the person); GET the ledger (payments:read)."""

    required_scopes = {"GET": ["payments:read"], "POST": ["payments:execute"]}

    @extend_schema(responses={200: PaymentPage, **errors(400, 401, 403, 429, 503)})
    def get(self, request):
        payments = Payment.objects.filter(owner_id=request.user.pk).select_related("approval")[:200]
        return Response({"results": PaymentSerializer(payments, many=True).data})

    @extend_schema(
        request=PaymentRequest,
        responses={201: PaymentSerializer, 202: Accepted, **errors(400, 401, 403, 409, 429, 503)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request):
        incoming = PaymentRequest(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        params = {
            "amount": f"{data['amount']:.2f}",
            "currency": data["currency"],
            "to": data["to"],
            "memo": data["memo"],
        }
        if request.auth.raw.get("authorization_details"):
            return self.pay_as_approved(request, params)
        key = request.headers.get("Idempotency-Key", "")
        if len(key) > 200:
            return Response({"error": "invalid_request", "error_description": "Idempotency-Key is too long."}, 400)
        try:
            approval, _ = services.request_approval(
                user=request.user.person,
                agent=request.user.agent,
                scope="payments:execute",
                action=ACTION,
                params=params,
                authorization_details=authorization_details(params),
                binding_message=params["memo"][:100],
                idempotency_key=key,
                token_jti=request.auth.jti,
                amount=data["amount"],
                currency=data["currency"],
            )
        except services.IdempotencyConflict:
            return Response(
                {"error": "idempotency_key_reused", "error_description": "That key was used for another request."},
                status=409,
            )
        if approval.automatic and approval.status == ApprovalRequest.Status.APPROVED:
            approval = services.execute(approval.pk)  # the person's policy said yes: no need to wait
        if approval.status == ApprovalRequest.Status.EXECUTED:
            payment = Payment.objects.get(approval=approval)
            return Response({**PaymentSerializer(payment).data, "status": approval.status}, status=201)
        return accepted(approval)

    def pay_as_approved(self, request, params):
        """A CIBA token is good for one payment: exactly the one its person approved."""
        approved = [d for d in request.auth.raw["authorization_details"] if d.get("type") == "payment_initiation"]
        wanted = validate_payment_initiation(
            {
                "type": "payment_initiation",
                "instructedAmount": {"currency": params["currency"], "amount": params["amount"]},
                "creditorName": params["to"],
                "remittanceInformationUnstructured": params["memo"],
            }
        )
        if not any(_same_payment(detail, wanted) for detail in approved):
            return Response(
                {"error": "approval_mismatch", "error_description": "This token was approved for another payment."},
                status=403,
            )
        approval = ApprovalRequest.objects.filter(token_jti=request.auth.jti, source="ciba").first()
        if approval is None:
            return Response({"error": "approval_mismatch"}, status=403)

        try:
            approval, result = services.consume(
                approval.pk, request.auth.jti, lambda locked: record_payment(locked, params)
            )
        except AlreadyDecided:
            return Response({"error": "already_consumed"}, status=409)
        payment = Payment.objects.get(pk=result["payment_id"])
        return Response({**PaymentSerializer(payment).data, "status": approval.status}, status=201)


def _same_payment(detail, wanted):
    keys = ("instructedAmount", "creditorName", "remittanceInformationUnstructured")
    return all(detail.get(key) == wanted.get(key) for key in keys)
