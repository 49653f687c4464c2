"""Resource servers as data (RFC 8707, RFC 9728): matched however clients spell them, each token
for exactly one, refused by the others, and introspected only by its own."""

import io
import json

import pytest
from django.core.management import call_command

from agentauth.identity import resources
from agentauth.identity.models import Agent, ResourceServer, Scope
from agentauth.oauth.registration import register_agent

from ..conftest import query_of
from .test_discovery_and_registration import introspect

TOOLS = "https://tools.example.com/mcp"


@pytest.fixture
def tools(catalogue):
    out = io.StringIO()
    call_command(
        "register_resource",
        "--identifier",
        TOOLS,
        "--name",
        "Tool server",
        "--scope",
        "tools:read|Use your tools to read",
        "--scope",
        "tools:execute|Run tools that act for you|high|approval",
        "--introspect",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    introspector = Agent.objects.get(client_id=printed["introspection_client_id"])
    introspector.plain_secret = printed["introspection_client_secret"]
    return ResourceServer.objects.get(identifier=TOOLS), introspector


@pytest.mark.parametrize(
    "spelling",
    [TOOLS, TOOLS + "/", "HTTPS://TOOLS.example.com/mcp", "https://tools.example.com:443/mcp/"],
)
def test_a_resource_is_matched_however_it_is_spelled(spelling):
    assert resources.normalise(spelling) == resources.normalise(TOOLS)


@pytest.mark.parametrize(
    "bad", ["/relative", "ftp://tools.example.com/", "https://tools.example.com/mcp#frag", "", "https://:99999/"]
)
def test_what_cannot_be_a_resource_indicator_is_refused(bad):
    with pytest.raises(ValueError):
        resources.normalise(bad)


def test_register_resource_defines_its_scopes_and_its_introspector(tools, catalogue):
    resource, introspector = tools
    out = io.StringIO()
    call_command(
        "register_resource",
        "--identifier",
        "https://other.example/api",
        "--name",
        "Other",
        "--scope",
        "other:read other:write",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    assert printed["scopes"] == ["other:read", "other:write"]
    assert printed["resource_metadata"] == "https://other.example/.well-known/oauth-protected-resource/api"
    assert set(resource.scopes.values_list("name", flat=True)) == {"tools:read", "tools:execute"}
    assert Scope.objects.get(name="tools:execute").requires_approval
    assert introspector.is_resource_server and resource.introspector == introspector


@pytest.fixture
def tool_agent(alice, tools):
    agent, secret = register_agent(
        name="Tool agent",
        owner=alice,
        grant_types=["client_credentials"],
        grant_scopes=["documents:read", "tools:read"],
    )
    agent.plain_secret = secret
    return agent


def test_a_token_for_a_resource_names_it_as_registered(oauth, tool_agent):
    from agentauth.identity.tokens import verify_access_token

    answer = oauth.token(
        {"grant_type": "client_credentials", "resource": "https://TOOLS.example.com:443/mcp/"}, tool_agent
    )
    assert answer.status_code == 200, answer.content
    assert verify_access_token(answer.json()["access_token"], audience=TOOLS).audience == (TOOLS,)


def test_a_token_for_one_resource_is_refused_by_another(client, oauth, tool_agent):
    token = oauth.token({"grant_type": "client_credentials", "resource": TOOLS}, tool_agent).json()["access_token"]
    refused = client.get("/api/v1/documents/", headers={"authorization": f"Bearer {token}"})
    assert refused.status_code == 401


def test_an_unknown_resource_is_invalid_target(oauth, tool_agent):
    answer = oauth.token({"grant_type": "client_credentials", "resource": "https://elsewhere.example/"}, tool_agent)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_target"


def test_invalid_target_does_not_burn_the_authorization_code(oauth, alice_oauth, web_agent, tools):
    code, verifier = alice_oauth.code_flow(web_agent, "documents:read")
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://agent.example/cb",
        "code_verifier": verifier,
    }
    wrong = alice_oauth.token(exchange | {"resource": "https://elsewhere.example/"}, web_agent)
    right = alice_oauth.token(exchange, web_agent)
    assert wrong.json()["error"] == "invalid_target"
    assert right.status_code == 200, right.content


def test_introspection_answers_only_the_resource_a_token_is_for(client, oauth, tool_agent, tools):
    _, tools_introspector = tools
    api_server, secret = register_agent(name="API introspector", grant_types=["client_credentials"])
    Agent.objects.filter(pk=api_server.pk).update(is_resource_server=True)
    api_server.plain_secret = secret
    for_tools = oauth.token({"grant_type": "client_credentials", "resource": TOOLS}, tool_agent).json()
    for_api = oauth.token({"grant_type": "client_credentials", "scope": "documents:read"}, tool_agent).json()

    assert introspect(client, tools_introspector, for_tools["access_token"]).json()["active"] is True
    assert introspect(client, tools_introspector, for_api["access_token"]).json() == {"active": False}
    assert introspect(client, api_server, for_api["access_token"]).json()["active"] is True
    assert introspect(client, api_server, for_tools["access_token"]).json() == {"active": False}


def test_a_resource_on_this_host_has_its_own_metadata(client, settings, catalogue):
    identifier = f"{settings.AGENTAUTH_ISSUER}/tools/mcp"
    resource = ResourceServer.objects.create(identifier=identifier, name="Local tools")
    Scope.objects.create(name="local:read", description="Read local things", resource_server=resource)
    answer = client.get("/.well-known/oauth-protected-resource/tools/mcp")
    assert answer.status_code == 200
    assert answer.json()["resource"] == identifier and answer.json()["scopes_supported"] == ["local:read"]
    assert answer.json()["resource_name"] == "Local tools"


def test_the_consent_screen_groups_scopes_by_resource_server(alice_oauth, web_agent, tools):
    page = alice_oauth.authorize(web_agent, "documents:read tools:read", challenge="c" * 43)
    groups = dict(page.context["groups"])
    assert set(groups) == {"Tool server", ResourceServer.objects.exclude(identifier=TOOLS).get().name}


def test_an_unknown_resource_at_the_authorization_endpoint_goes_back_as_invalid_target(alice_oauth, web_agent):
    answer = alice_oauth.authorize(
        web_agent, "documents:read", challenge="c" * 43, resource="https://elsewhere.example/"
    )
    assert answer.status_code == 302 and query_of(answer)["error"] == "invalid_target"
