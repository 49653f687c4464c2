"""A database of the old schema (everything in the agentauth app) upgrades in place, rows intact."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# Going back there unapplies the new apps' migrations too: they depend on agentauth 0003.
BEFORE_THE_SPLIT = [("agentauth", "0002_audit_sealing")]


def migrate(targets):
    """Migrate the test database to `targets`; return the models as they are there."""
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_old_schema_upgrades_with_every_row():
    old = migrate(BEFORE_THE_SPLIT)
    person = old.get_model("auth", "User").objects.create(username="old-timer")
    agent = old.get_model("agentauth", "Agent").objects.create(
        name="Legacy", client_id="legacy-agent", user=person, client_type="confidential", grant_types=[]
    )
    grant = old.get_model("agentauth", "Grant").objects.create(user=person, agent=agent, scopes=["documents:read"])
    old.get_model("agentauth", "GrantChange").objects.create(grant=grant, before=[], after=["documents:read"])
    old.get_model("agentauth", "AuditEvent").objects.create(event="consent.granted", subject=person, seq=1, hash="h")
    old.get_model("agentauth", "Alert").objects.create(
        user=person, agent=agent, rule="rate_spike", severity="medium", summary="busy"
    )
    old.get_model("agentauth", "ActivityMinute").objects.create(
        client_id="legacy-agent", user=person, minute=timezone.now(), calls=7
    )

    new = migrate(latest())

    grant = new.get_model("consent", "Grant").objects.get()
    assert (grant.agent.client_id, grant.scopes) == ("legacy-agent", ["documents:read"])
    assert new.get_model("consent", "GrantChange").objects.get().after == ["documents:read"]
    assert new.get_model("audit", "AuditEvent").objects.get().event == "consent.granted"
    assert new.get_model("monitoring", "Alert").objects.get().summary == "busy"
    assert new.get_model("monitoring", "ActivityMinute").objects.get().calls == 7
    content_types = new.get_model("contenttypes", "ContentType").objects
    assert content_types.filter(app_label="consent", model="grant").exists()
    assert not content_types.filter(app_label="agentauth", model="grant").exists()
