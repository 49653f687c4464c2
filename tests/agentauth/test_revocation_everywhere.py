"""Revoked, suspended and narrowed: refused by another process within a second, though each
process answers from its own copy of the revocation list (no round trip per call)."""

import time

import pytest
import requests

from agentauth.consent import grants
from agentauth.consent.models import GrantChange
from agentauth.identity import lifecycle
from agentauth.identity.models import AccessToken

from ..servers import asgi_server

pytestmark = pytest.mark.django_db(transaction=True)


def refused_within(base, token, seconds=1.0):
    """Seconds until the server refuses `token`, or None if it still accepts it after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        answer = requests.get(f"{base}/api/v1/documents/", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        if answer.status_code == 401:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


@pytest.mark.parametrize("change", ["suspend the agent", "revoke the token", "narrow the grant"])
def test_another_process_refuses_within_a_second(redis_url, oauth, cc_agent, alice, change):
    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    with asgi_server() as base:
        works = requests.get(f"{base}/api/v1/documents/", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        if change == "suspend the agent":
            lifecycle.suspend(cc_agent)
        elif change == "revoke the token":
            AccessToken.objects.get().revoke()
        else:
            grants.set_scopes(alice, cc_agent, ["documents:write"], via=GrantChange.Via.PORTAL)
        took = refused_within(base, token)

    assert works.status_code == 200
    assert took is not None, f"still accepted a second after: {change}"
