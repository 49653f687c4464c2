"""AgentAuth in production mode (DEBUG off), the example MCP server, and a person with documents:
what the official MCP clients are driven against."""

import secrets
from contextlib import contextmanager

import pytest
import requests

from examples.models import Document

from ..factories import UserFactory
from ..https_documents import DocumentServer
from ..servers import BIN, asgi_process, free_port, run_command, spawn, stop, wait_until_up


@pytest.fixture
def documents_host(tmp_path):
    with DocumentServer(tmp_path) as server:
        yield server


@contextmanager
def mcp_server(**env):
    port = free_port()
    resource = f"http://localhost:{port}/mcp"
    process = spawn(
        "mcp",
        [str(BIN / "python"), "-m", "examples.mcp_server"],
        MCP_PORT=str(port),
        MCP_RESOURCE=resource,
        **env,
    )
    try:
        metadata = f"http://localhost:{port}/.well-known/oauth-protected-resource/mcp"
        wait_until_up(lambda: requests.get(metadata, timeout=1).ok, "MCP server", process, 60)
        yield resource
    finally:
        stop(process)


@pytest.fixture(scope="session")
def static_files(tmp_path_factory):
    """Production serves collected, fingerprinted static files (whitenoise's manifest)."""
    root = str(tmp_path_factory.mktemp("static"))
    collected = run_command(
        "collectstatic",
        "--noinput",
        "--verbosity",
        "0",
        DEBUG="False",
        STATIC_ROOT=root,
        AGENTAUTH_ISSUER="https://x.invalid",
    )
    assert collected.returncode == 0, collected.stderr
    return root


@pytest.fixture
def stack(documents_host, chromium, static_files):
    """(issuer, MCP server URL, the document host) with AgentAuth in production mode."""
    port = free_port()
    issuer = f"http://localhost:{port}"
    production = {
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "AGENTAUTH_ISSUER": issuer,
        "SECURE_SSL_REDIRECT": "False",  # plain http on loopback in a test; everything else as deployed
        "REDIS_URL": "",  # tasks run in the process: no worker to start
        "AGENTAUTH_OUTBOUND_ALLOWED_HOSTS": "localhost",
        "AGENTAUTH_OUTBOUND_CA_BUNDLE": str(documents_host.ca),
        "STATIC_ROOT": static_files,
        "AGENTAUTH_REGISTRATION": "public",  # the operator's choice that lets MCP clients register themselves
    }
    with asgi_process(port=port, **production), mcp_server(**production) as mcp_url:
        yield issuer, mcp_url, documents_host


@pytest.fixture
def person(catalogue):
    person = UserFactory(username="mia")
    Document.objects.create(owner=person, title="Lease agreement", body="The flat on Elm Street, from May.")
    return person
