import json
import time
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from agentauth.consent.models import Grant
from agentauth.monitoring import activity
from agentauth.monitoring.models import Alert


def use_documents_read(oauth, agent):
    token = oauth.token({"grant_type": "client_credentials", "scope": "documents:read"}, agent).json()["access_token"]
    Client().get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}")
    activity.flush(now=time.time() + 120)


def test_a_scope_never_used_is_found_and_narrowed_in_one_click(client, alice, cc_agent, oauth):
    use_documents_read(oauth, cc_agent)
    Grant.objects.update(granted_at=timezone.now() - timedelta(days=40))
    client.force_login(alice)

    page = client.get("/security/")
    finding = next(f for f in page.context["findings"] if f.kind == "scope_unused")
    client.post(f"/security/narrow/{cc_agent.client_id}/", {"scope": finding.scopes})

    assert finding.scopes == ["documents:write"]
    assert Grant.objects.get().scopes == ["documents:read"]


def test_a_grant_unused_for_weeks_is_found(client, alice, cc_agent):
    Grant.objects.update(granted_at=timezone.now() - timedelta(days=40))
    client.force_login(alice)

    kinds = [finding.kind for finding in client.get("/security/").context["findings"]]

    assert "grant_unused" in kinds


def test_unusual_hours_are_saved(client, alice):
    client.force_login(alice)

    client.post("/security/unusual-hours/", {"hour": ["0", "1", "2", "99", "x"]})

    assert alice.agent_settings.unusual_hours == [0, 1, 2]


def test_alerts_can_be_acknowledged_or_used_to_suspend(client, alice, cc_agent):
    first = Alert.objects.create(user=alice, agent=cc_agent, rule="rate_spike", severity="medium", summary="spike")
    second = Alert.objects.create(user=alice, agent=cc_agent, rule="new_origin", severity="low", summary="new ip")
    client.force_login(alice)

    client.post(f"/alerts/{first.pk}/", {"action": "acknowledge"})
    client.post(f"/alerts/{second.pk}/", {"action": "suspend"})

    first.refresh_from_db()
    cc_agent.refresh_from_db()
    assert first.acknowledged_at is not None
    assert cc_agent.status == "suspended"
    assert client.get("/alerts/").status_code == 200


def test_someone_elses_alert_is_404(client, bob, alice, cc_agent):
    alert = Alert.objects.create(user=alice, agent=cc_agent, rule="x", severity="low", summary="s")
    client.force_login(bob)

    assert client.post(f"/alerts/{alert.pk}/", {"action": "suspend"}).status_code == 404


def test_the_admin_report_exports_csv_and_json(admin_client, client, alice, cc_agent):
    Grant.objects.update(granted_at=timezone.now() - timedelta(days=40))

    html = admin_client.get("/security/report/")
    as_csv = admin_client.get("/security/report/?format=csv")
    as_json = json.loads(admin_client.get("/security/report/?format=json").content)
    client.force_login(alice)

    assert html.status_code == 200
    assert as_csv.content.decode().startswith("kind,severity,summary")
    assert any(entry["kind"] == "grant_unused" for entry in as_json)
    assert client.get("/security/report/").status_code == 302  # people are sent to the admin sign-in


def test_what_my_agent_did_yesterday_is_on_one_page(client, alice, cc_agent, oauth):
    use_documents_read(oauth, cc_agent)
    Alert.objects.create(user=alice, agent=cc_agent, rule="rate_spike", severity="medium", summary="Odd spike")
    client.force_login(alice)

    page = client.get(f"/agents/{cc_agent.client_id}/").content.decode()
    today = timezone.now().date().isoformat()
    filtered = client.get(f"/agents/{cc_agent.client_id}/?kind=token.&day={today}").content.decode()

    assert "Got an access token for documents:read" in page
    assert "API: 1 call(s)" in page
    assert "Odd spike" in page
    assert "Got an access token" in filtered and "API:" not in filtered
