"""A newcomer starts from a demo person with three agents whose credentials work."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from agentauth.identity.models import Agent

from ..conftest import OAuthClient

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_a_person_three_working_agents_and_prints_them_every_start(settings, tmp_path, catalogue):
    settings.BASE_DIR, settings.DEBUG = tmp_path, True  # pytest-django turns DEBUG off
    first, again = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=again)

    credentials = json.loads((tmp_path / ".demo-agents.json").read_text())
    assert [agent["name"] for agent in credentials] == ["Demo reader", "Demo payer", "Demo CIBA agent"]
    assert Agent.objects.filter(user__username="demo").count() == 3
    for printed in (first.getvalue(), again.getvalue()):
        assert all(agent["client_secret"] in printed for agent in credentials)
    reader = Agent.objects.get(client_id=credentials[0]["client_id"])
    reader.plain_secret = credentials[0]["client_secret"]
    token = OAuthClient(Client()).token({"grant_type": "client_credentials"}, reader)
    assert token.status_code == 200 and token.json()["scope"] == "documents:read"


def test_seed_demo_seeds_nobody_in_production(settings, tmp_path, catalogue):
    settings.BASE_DIR, settings.DEBUG = tmp_path, False
    call_command("seed_demo", stdout=io.StringIO())
    assert not Agent.objects.exists() and not (tmp_path / ".demo-agents.json").exists()
