"""The person's browsers for Web Push: subscribe one (the browser's PushSubscription JSON), list
them, remove one. Session + CSRF, like every other thing a person does."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agentauth.lib import numbers
from agentauth.resource.schema import errors

from . import push
from .models import PushSubscription


class SubscriptionKeys(serializers.Serializer):
    p256dh = serializers.CharField()
    auth = serializers.CharField()


class SubscriptionRequest(serializers.Serializer):
    endpoint = serializers.URLField(max_length=1000)
    keys = SubscriptionKeys()
    expirationTime = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815 - the browser's name
    device = serializers.CharField(required=False, allow_blank=True, max_length=200)


class Device(serializers.ModelSerializer):
    class Meta:
        model = PushSubscription
        fields = ["id", "device", "created_at", "last_delivered_at"]


class DeviceList(serializers.Serializer):
    application_server_key = serializers.CharField()
    results = Device(many=True)


class PersonOnly(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]


class Subscriptions(PersonOnly):
    """GET the person's subscribed browsers (and the key to subscribe one); POST a subscription."""

    @extend_schema(responses={200: DeviceList, **errors(401, 403)})
    def get(self, request):
        devices = PushSubscription.objects.filter(user=request.user)
        return Response(
            {"application_server_key": push.application_server_key(), "results": Device(devices, many=True).data}
        )

    @extend_schema(request=SubscriptionRequest, responses={201: Device, **errors(400, 401, 403)})
    def post(self, request):
        device = str(request.data.get("device", "")) if isinstance(request.data, dict) else ""
        device = device or request.headers.get("User-Agent", "")[:200]
        try:
            subscription, _ = push.subscribe(request.user, request.data, device=device)
        except push.InvalidSubscription as error:
            return Response({"error": "invalid_request", "error_description": str(error)}, status=400)
        return Response(Device(subscription).data, status=201)


class SubscriptionDetail(PersonOnly):
    @extend_schema(responses={204: None, **errors(401, 403, 404)})
    def delete(self, request, subscription_id):
        removed = 0
        if numbers.is_id(subscription_id):
            removed, _ = PushSubscription.objects.filter(user=request.user, pk=int(subscription_id)).delete()
        return Response(status=204) if removed else Response({"error": "not_found"}, status=404)
