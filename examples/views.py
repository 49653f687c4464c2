"""An example protected API, built only on what agentauth.resource offers, as a customer's API would be."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from agentauth.resource.schema import errors

from .models import Document


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "title", "body", "created_by_agent", "created_at"]
        read_only_fields = ["id", "created_by_agent", "created_at"]


class DocumentPage(serializers.Serializer):
    results = DocumentSerializer(many=True)


class DocumentList(APIView):
    """GET the person's documents (documents:read); POST a new one (documents:write)."""

    required_scopes = {"GET": ["documents:read"], "POST": ["documents:write"]}

    @extend_schema(responses={200: DocumentPage, **errors(400, 401, 403, 429, 503)})
    def get(self, request):
        documents = Document.objects.filter(owner_id=request.user.pk)[:100]
        return Response({"results": DocumentSerializer(documents, many=True).data})

    @extend_schema(request=DocumentSerializer, responses={201: DocumentSerializer, **errors(400, 401, 403, 429, 503)})
    def post(self, request):
        incoming = DocumentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        document = incoming.save(owner_id=request.user.pk, created_by_agent=request.user.client_id)
        return Response(DocumentSerializer(document).data, status=201)
