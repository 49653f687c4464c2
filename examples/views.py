"""An example protected API, built only on what agentauth.api offers, as a customer's API would be."""

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
    """GET the person's documents (documents:read); POST a new one (documents:write)."""

    required_scopes = {"GET": ["documents:read"], "POST": ["documents:write"]}

    def get(self, request):
        documents = Document.objects.filter(owner_id=request.user.pk)[:100]
        return Response({"results": DocumentSerializer(documents, many=True).data})

    def post(self, request):
        incoming = DocumentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        document = incoming.save(owner_id=request.user.pk, created_by_agent=request.user.client_id)
        return Response(DocumentSerializer(document).data, status=201)
