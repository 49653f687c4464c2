import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connections, transaction
from django.test import Client

from agentauth.audit import trail
from agentauth.audit.models import AuditEvent, AuditHead
from agentauth.consent import grants
from agentauth.identity import lifecycle


def events():
    return list(AuditEvent.objects.order_by("id").values_list("event", "outcome"))


def verify():
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


@pytest.mark.catalogue("AU-01")
def test_the_life_of_an_agent_is_in_the_log(oauth, cc_agent, alice, client):
    oauth.token({"grant_type": "client_credentials"}, cc_agent)
    oauth.token({"grant_type": "client_credentials", "scope": "payments:execute"}, cc_agent)
    grants.set_scopes(alice, cc_agent, ["documents:read"])
    lifecycle.suspend(cc_agent)
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery staple"})

    logged = events()

    assert ("agent.registered", "success") in logged
    assert ("consent.granted", "success") in logged
    assert ("token.issued", "success") in logged
    assert ("token.refused", "failure") in logged
    assert ("consent.narrowed", "success") in logged
    assert ("agent.suspended", "success") in logged
    assert ("signin.failure", "failure") in logged
    assert ("signin.success", "success") in logged
    issued = AuditEvent.objects.get(event="token.issued")
    assert issued.client_id == cc_agent.client_id and issued.subject == alice
    assert issued.request_id and issued.ip == "127.0.0.1"
    refused = AuditEvent.objects.get(event="token.refused")
    assert refused.details["error"] == "invalid_scope"


def test_an_intact_chain_verifies(oauth, cc_agent):
    oauth.token({"grant_type": "client_credentials"}, cc_agent)

    assert "intact" in verify()


@pytest.mark.catalogue("AU-03")
def test_changing_a_row_breaks_the_chain_at_that_row(oauth, cc_agent):
    oauth.token({"grant_type": "client_credentials"}, cc_agent)
    oauth.token({"grant_type": "client_credentials"}, cc_agent)
    trail.seal()  # what happens right after each commit (the test's transaction never commits)
    victim = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(pk=victim.pk).update(outcome="failure")

    with pytest.raises(CommandError, match=f"record {victim.pk}"):
        verify()


@pytest.mark.catalogue("AU-03")
def test_deleting_a_row_is_detected(oauth, cc_agent):
    oauth.token({"grant_type": "client_credentials"}, cc_agent)
    trail.seal()
    middle = AuditEvent.objects.order_by("id")[1]

    AuditEvent.objects.filter(pk=middle.pk).delete()

    with pytest.raises(CommandError):
        verify()


def test_deleting_the_newest_rows_is_detected(oauth, cc_agent):
    oauth.token({"grant_type": "client_credentials"}, cc_agent)
    trail.seal()

    AuditEvent.objects.filter(pk=AuditEvent.objects.order_by("-id").first().pk).delete()

    with pytest.raises(CommandError, match="after the last record"):
        verify()


def test_records_are_sealed_into_the_chain_soon_after_their_transaction_commits(transactional_db):
    with transaction.atomic():
        trail.record("test.first")
        trail.record("test.second")
        assert len(connections["default"].run_on_commit) == 1  # one wake-up per transaction

    assert trail.sealer.wait_idle(10)
    first, second = AuditEvent.objects.order_by("seq")
    assert first.seq is not None and second.seq == first.seq + 1
    assert second.prev_hash == first.hash


@pytest.mark.catalogue("AU-01")
def test_audited_writers_and_sealers_do_not_wait_for_a_busy_sealer(requires_postgres, transactional_db):
    holding, release = threading.Event(), threading.Event()
    AuditHead.objects.get_or_create(pk=1)

    def busy_sealer():
        try:
            with transaction.atomic():
                AuditHead.objects.select_for_update().get(pk=1)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    other = threading.Thread(target=busy_sealer)
    other.start()
    holding.wait(5)
    try:
        trail.record("test.while_busy")  # commits, wakes this process's sealer, which finds the head taken
        skipped = trail.sealer.wait_idle(5)  # a sealer blocked on the head would sit there until released
        assert AuditEvent.objects.get(event="test.while_busy").seq is None
    finally:
        release.set()
        other.join()

    assert skipped
    assert trail.seal() == 1
    assert "intact" in verify()


def test_a_change_that_rolls_back_leaves_no_record(alice, cc_agent):
    before = AuditEvent.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.suspend(cc_agent)
        raise RuntimeError("the request failed after the change")

    assert AuditEvent.objects.count() == before
    cc_agent.refresh_from_db()
    assert cc_agent.status == "active"
    assert "intact" in verify()


@pytest.mark.catalogue("AU-03")
def test_the_admin_can_read_but_not_change_the_log(admin_client, oauth, cc_agent):
    oauth.token({"grant_type": "client_credentials"}, cc_agent)
    entry = AuditEvent.objects.first()

    listing = admin_client.get("/admin/audit/auditevent/")
    change = admin_client.post(f"/admin/audit/auditevent/{entry.pk}/change/", {"outcome": "x"})
    delete = admin_client.post(f"/admin/audit/auditevent/{entry.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert change.status_code == 403 and delete.status_code == 403
    assert AuditEvent.objects.filter(pk=entry.pk, outcome="success").exists()


def test_admin_changes_are_logged(admin_client, cc_agent):
    from agentauth.identity.models import Scope

    scope = Scope.objects.get(name="documents:read")
    admin_client.post("/admin/agentauth/agent/", {"action": "suspend", "_selected_action": [cc_agent.pk]})
    admin_client.post(
        f"/admin/agentauth/scope/{scope.pk}/change/",
        {"name": scope.name, "description": "Read every document", "risk": "low", "permission": ""},
    )

    assert AuditEvent.objects.filter(event="agent.suspended").exists()
    change = AuditEvent.objects.get(event="admin.change")
    assert change.actor_type == "admin" and change.details["object"] == "documents:read"


@pytest.mark.catalogue("AU-02")
def test_no_secret_or_token_reaches_the_log(oauth, cc_agent, alice_oauth, web_agent):
    issued = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()
    tokens = alice_oauth.tokens_for(web_agent, "documents:read")
    Client().post("/accounts/login/", {"username": "alice", "password": "hunter2-secret-guess"})

    dump = json.dumps(list(AuditEvent.objects.values()), default=str)

    for secret in (
        cc_agent.plain_secret,
        web_agent.plain_secret,
        issued["access_token"],
        tokens["access_token"],
        tokens["refresh_token"],
        "hunter2-secret-guess",
    ):
        assert secret not in dump


def test_injected_newlines_stay_inside_one_record(cc_agent):
    trail.record("test.event", details={"note": "ok\n2026-01-01 INFO decision=approve user=admin\x1b[31m"})

    entry = AuditEvent.objects.get(event="test.event")
    assert entry.details["note"].startswith("ok\n")
    assert "intact" in verify()


def test_nul_bytes_in_hostile_input_do_not_break_the_log(db):
    trail.record("test.hostile", actor="a\x00b", client_id="c\x00", scope="s\x00", details={"k\x00": ["v\x00"]})

    entry = AuditEvent.objects.get(event="test.hostile")
    assert "\x00" not in entry.actor + entry.client_id + entry.scope + json.dumps(entry.details)
    assert "intact" in verify()


@pytest.mark.catalogue("RV-02")
def test_an_admin_narrowing_a_grant_goes_through_consent_and_cuts_the_tokens(
    admin_client, client, oauth, cc_agent, alice
):
    from agentauth.consent.models import Grant, GrantChange

    token = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    grant = Grant.objects.get(user=alice, agent=cc_agent)

    saved = admin_client.post(
        f"/admin/consent/grant/{grant.pk}/change/", {"scopes": '["documents:read"]', "user": "999", "agent": "999"}
    )
    deleted = admin_client.post(f"/admin/consent/grant/{grant.pk}/delete/", {"post": "yes"})

    assert saved.status_code == 302 and deleted.status_code == 403
    grant.refresh_from_db()
    assert grant.scopes == ["documents:read"] and grant.user == alice and grant.agent == cc_agent
    assert grant.changes.first().via == GrantChange.Via.ADMIN and grant.changes.first().summary == "narrowed"
    assert AuditEvent.objects.filter(event="consent.narrowed", actor_type="admin").exists()
    refused = client.get("/api/v1/documents/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401
