"""The documents list of AgentAuth's example API, protected the way DOT documents it for DRF."""

from django.http import JsonResponse
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Document


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "title", "body", "created_by_agent", "created_at"]
        read_only_fields = ["id", "created_by_agent", "created_at"]


class DocumentList(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["documents:read"]

    def get(self, request):
        # A client-credentials token has no user in DOT: it acts for the application's owner.
        owner_id = request.auth.application.user_id
        documents = Document.objects.filter(owner_id=owner_id)[:100]
        return Response({"results": DocumentSerializer(documents, many=True).data})


def healthz(request):
    return JsonResponse({"status": "ok"})
