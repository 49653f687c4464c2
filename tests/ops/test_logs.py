"""Log lines name their request, agent, approval and task (JSON in production)."""

import io
import json
import logging

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from rest_framework.request import Request

from agentauth.audit.middleware import RequestIdMiddleware
from agentauth.lib import logs
from agentauth.oauth.registration import register_agent
from agentauth.resource.authentication import JWTAuthentication
from approvals import tasks
from approvals.models import ApprovalRequest

from ..conftest import OAuthClient
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JSONFormatter())
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_request_s_lines_name_the_request_and_the_agent(lines, catalogue):
    agent, secret = register_agent(
        name="Reader", owner=UserFactory(), grant_types=["client_credentials"], grant_scopes=["documents:read"]
    )
    agent.plain_secret = secret
    token = OAuthClient(Client()).token({"grant_type": "client_credentials"}, agent).json()["access_token"]

    def view(request):
        logging.getLogger("before").warning("not yet known whose")
        JWTAuthentication().authenticate(Request(request))
        logging.getLogger("after").warning("now known")
        return HttpResponse()

    request = RequestFactory().get(
        "/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_REQUEST_ID="req-12345678"
    )
    RequestIdMiddleware(view)(request)
    before, after = [line for line in lines() if line["logger"] in ("before", "after")]
    assert before["request_id"] == after["request_id"] == "req-12345678"
    assert "client_id" not in before and after["client_id"] == agent.client_id


def test_a_task_s_lines_name_the_task_and_its_approval(lines, caplog):
    tasks.execute_approval.apply(args=["no-such-approval"], throw=False)  # it fails, and says so
    named = [line for line in lines() if line.get("task") == "approvals.tasks.execute_approval"]
    assert named and all(line["approval_id"] == "no-such-approval" for line in named)
    assert not ApprovalRequest.objects.exists()
