"""Agents and people as the hot paths read them (a token request, an agent's action, a person's
decision, a worker running an approval): by SELECTs compiled once (lib.selects)."""

from django.contrib.auth import get_user_model

from agentauth.lib.selects import Param, Select

from .models import Agent

agent = Select(lambda: Agent.objects.filter(pk=Param("pk")))
agent_by_client_id = Select(lambda: Agent.objects.filter(client_id=Param("client_id")))
person = Select(lambda: get_user_model().objects.filter(pk=Param("pk")))
