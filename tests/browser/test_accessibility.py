"""axe-core (the engine behind most accessibility audits) on the pages a person decides on, at a
desktop and a phone viewport: no serious or critical violation, and on a phone no page wider than
the screen."""

from pathlib import Path
from urllib.parse import urlencode

import pytest

from agentauth.consent import delegations
from agentauth.oauth.registration import register_agent
from approvals import services
from examples.payments import PAY

from ..factories import UserFactory
from .test_pages import sign_in

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[1] / "strict" / "node_modules" / "axe-core" / "axe.min.js"


def violations(page):
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("viewport", [{"width": 1200, "height": 900}, {"width": 390, "height": 844}])
def test_no_serious_accessibility_violation_where_people_decide(browser, live_server, catalogue, viewport):
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make venv-dev` runs npm ci in tests/strict")
    page = browser.new_context(viewport=viewport, bypass_csp=True).new_page()  # to inject axe only
    person = UserFactory(username="ada")
    agent, _ = register_agent(
        name="Travel agent",
        owner=person,
        grant_types=["client_credentials", "authorization_code"],
        redirect_uris=["https://agent.example/cb"],
        grant_scopes=["payments:execute", "documents:read"],
    )
    helper, _ = register_agent(
        name="Research helper", owner=person, grant_types=["client_credentials"], grant_scopes=["documents:read"]
    )
    delegations.allow(person, agent, helper, ["documents:read"])  # the agent page lists it, with its form
    approval, _ = services.request_approval(
        user=person,
        agent=agent,
        action=PAY,
        params={"amount": "80.00", "currency": "EUR", "to": "Rail Co", "memo": "Tickets"},
    )
    consent = urlencode(
        {
            "response_type": "code",
            "client_id": agent.client_id,
            "redirect_uri": "https://agent.example/cb",
            "scope": "documents:read",
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        }
    )
    page.goto(f"{live_server.url}/accounts/login/")
    found = {"sign-in": violations(page)}
    too_wide = []
    sign_in(page, live_server.url, "ada")
    for name, path in [
        ("dashboard", "/dashboard/"),
        ("agent", f"/agents/{agent.client_id}/"),
        ("consent", f"/o/authorize/?{consent}"),
        ("approval", f"/approvals/{approval.pk}/"),
        ("approvals", "/approvals/"),
        ("history", "/history/"),
        ("devices", "/devices/"),
        ("passkeys", "/passkeys/"),
        ("step-up", f"/approvals/{approval.pk}/reauth/"),
        ("alerts", "/alerts/"),
        ("security", "/security/"),
        ("connect", "/agents/new/"),
        ("enter a code", "/device/"),
    ]:
        page.goto(live_server.url + path)
        found[name] = violations(page)
        if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
            too_wide.append(name)

    assert not any(found.values()), {name: problems for name, problems in found.items() if problems}
    assert too_wide == []
