"""The example payments API: every payment is a critical action that waits for its person."""

from decimal import Decimal

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from agentauth.identity import rar
from agentauth.resource.schema import errors
from approvals import actions
from approvals.policies import CURRENCIES
from approvals.protect import RequiresApproval

from .models import Payment


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


class Pay(actions.Action):
    """Pay someone from the person's account: asked for unless their limit for this agent covers it."""

    name = "payments.create"
    scope = "payments:execute"
    Request = PaymentRequest
    Result = PaymentSerializer

    def params(self, data):
        return {"amount": f"{data['amount']:.2f}", "currency": data["currency"], "to": data["to"], "memo": data["memo"]}

    def describe(self, params):
        return f"Pay {params['amount']} {params['currency']} to {params['to']}"

    def authorization_details(self, params):
        """The RFC 9396 `payment_initiation` shape, for people and CIBA clients."""
        return [
            {
                "type": "payment_initiation",
                "instructedAmount": {"currency": params["currency"], "amount": params["amount"]},
                "creditorName": params["to"],
                "remittanceInformationUnstructured": params["memo"],
            }
        ]

    def binding_message(self, params):
        return params["memo"]

    def amount(self, params):
        return Decimal(params["amount"]), params["currency"]

    def run(self, approval, params):
        # The approval is unique on the payment, so a second payment for it is impossible.
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

    def present(self, approval):
        return PaymentSerializer(approval.payment).data


PAY = actions.register(Pay())


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
    # RFC 9396's common fields are kept, never dropped: what the person sees is what the token says.
    common = {key: detail[key] for key in ("actions", "locations") if key in detail}
    if any(not isinstance(value, list) or not all(_short_string(item) for item in value) for value in common.values()):
        raise rar.InvalidDetails("actions and locations must be arrays of short strings")
    return {
        "type": "payment_initiation",
        "instructedAmount": {"currency": data["currency"], "amount": f"{data['amount']:.2f}"},
        "creditorName": data["to"],
        "creditorAccount": account,
        "remittanceInformationUnstructured": data["memo"],
        **common,
    }


def _short_string(value):
    return isinstance(value, str) and len(value) <= 200


def describe_payment_initiation(detail):
    amount = detail["instructedAmount"]
    return f"Pay {amount['amount']} {amount['currency']} to {detail['creditorName']}"


def payment_initiation_facts(detail):
    amount, account = detail["instructedAmount"], detail.get("creditorAccount") or {}
    return {
        "instructedAmount": ("Amount", f"{amount['amount']} {amount['currency']}"),
        "creditorName": ("To", detail["creditorName"]),
        "creditorAccount": (
            "Account",
            ", ".join(f"{kind.upper()} {number}" for kind, number in sorted(account.items())),
        ),
        "remittanceInformationUnstructured": ("Memo", detail["remittanceInformationUnstructured"]),
    }


rar.register(
    "payment_initiation",
    validate=validate_payment_initiation,
    describe=describe_payment_initiation,
    facts=payment_initiation_facts,
    risk="high",
)


class PaymentList(RequiresApproval, APIView):
    """POST a payment (payments:execute, waits for the person); GET the ledger (payments:read)."""

    critical_action = PAY
    required_scopes = {"GET": ["payments:read"]}

    @extend_schema(responses={200: PaymentPage, **errors(400, 401, 403, 429, 503)})
    def get(self, request):
        payments = Payment.objects.filter(owner_id=request.user.pk).select_related("approval")[:200]
        return Response({"results": PaymentSerializer(payments, many=True).data})
