"""Malformed and hostile input everywhere gets a clean 4xx: never a 500, never a stack trace."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentauth.identity import rar, scopes
from agentauth.identity.redirects import redirect_uri_matches


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def write_token(oauth, cc_agent):
    return oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]


@pytest.mark.catalogue("FZ-07")
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeply nested
        b'{"title": "\xff\xfe"}',  # invalid UTF-8
        b'{"title": "x", "title": "y"}',
        b"{" + b'"a": 1,' * 50_000 + b'"z": 1}',
        b'{"title": NaN}',
        b"",
        b"null",
        b'"just a string"',
    ],
)
def test_odd_json_bodies_are_4xx(write_token, body):
    response = Client().post("/api/v1/documents/", body, content_type="application/json", **bearer(write_token))

    assert 400 <= response.status_code < 500, response.content[:200]


def test_oversized_bodies_are_refused(write_token):
    body = json.dumps({"title": "x", "body": "y" * 400_000})

    response = Client().post("/api/v1/documents/", body, content_type="application/json", **bearer(write_token))

    assert response.status_code in (400, 413)


@pytest.mark.catalogue("FZ-02")
@pytest.mark.parametrize("header", ["Bearer " + "a" * 70_000, "Bearer a.b.c", "Bearer " + "." * 10_000, "Basic x"])
def test_odd_authorization_headers_are_401(db, header):
    response = Client().get("/api/v1/documents/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


@pytest.mark.catalogue("CS-05", "FZ-06")
def test_security_headers_everywhere(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    page = client.get("/accounts/login/", secure=True)

    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert "default-src 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.catalogue("CS-05")
def test_token_and_introspection_responses_are_never_cached(oauth, cc_agent):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent)
    refused = oauth.token({"grant_type": "client_credentials", "scope": "nope:read"}, cc_agent)

    assert token["Cache-Control"] == "no-store" and refused["Cache-Control"] == "no-store"


@pytest.mark.catalogue("CS-05")
def test_no_cors_on_the_authorization_endpoint(client, db):
    response = client.options("/o/authorize/", HTTP_ORIGIN="https://evil.test")

    assert "Access-Control-Allow-Origin" not in response


def test_production_cookies_are_secure_and_host_prefixed():
    import os
    import subprocess
    import sys

    names = "SESSION_COOKIE_SECURE CSRF_COOKIE_SECURE SESSION_COOKIE_NAME CSRF_COOKIE_NAME"
    script = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'agentauth.settings'); django.setup(); "
        f"from django.conf import settings; print(*[getattr(settings, n) for n in {names.split()!r}])"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ, DEBUG="False"), check=True
    )

    assert run.stdout.split() == ["True", "True", "__Host-agentauth-session", "__Host-csrftoken"]


@given(st.text(max_size=200))
def test_scope_parsing_never_crashes_and_only_yields_well_formed_names(value):
    parsed = scopes.parse(value)

    assert parsed is None or all(scopes.SCOPE_PATTERN.match(name) for name in parsed)


@given(st.text(max_size=200), st.lists(st.text(max_size=60), max_size=3))
def test_redirect_matching_never_crashes_and_never_matches_what_is_not_registered(uri, registered):
    matched = redirect_uri_matches(uri, registered)

    assert not matched or uri in registered or uri.startswith("http://127.0.0.1:") or uri.startswith("http://[::1]:")


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_authorization_details_validation_never_crashes(value):
    try:
        details = rar.parse(json.dumps(value))
    except rar.InvalidDetails:
        return
    assert all(detail["type"] in rar.detail_types() for detail in details)
