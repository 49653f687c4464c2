"""Select reads the row a QuerySet would, as the instance it would build, from SQL compiled once."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from agentauth.audit.models import AuditEvent
from agentauth.consent import grants
from agentauth.consent.models import Grant
from agentauth.identity import known_agents
from agentauth.identity.models import Agent, Scope
from agentauth.lib.selects import Param, Select

pytestmark = pytest.mark.django_db


def fields(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_grant_is_the_instance_the_orm_builds(alice, cc_agent):
    found = grants.standing_grant(alice, cc_agent)
    with transaction.atomic():
        locked = grants.standing_grant(alice, cc_agent, lock=True)

    expected = fields(Grant.objects.get(user=alice, agent=cc_agent))
    assert fields(found) == fields(locked) == expected
    assert isinstance(found.scopes, list) and found.granted_at.tzinfo is not None  # converted, as the ORM does
    assert not found._state.adding and found._state.db == "default"
    assert found.user == alice  # related objects load as usual


def test_each_call_sends_its_own_values(alice, bob, cc_agent):
    assert grants.standing_grant(bob, cc_agent) is None
    assert grants.standing_grant(alice, cc_agent) is not None
    Grant.objects.filter(user=alice, agent=cc_agent).update(revoked_at=timezone.now())
    assert grants.standing_grant(alice, cc_agent) is None  # the constant part of the query still applies


@pytest.mark.skipif(not connection.features.has_select_for_update, reason="no row locks (SQLite): nothing to refuse")
@pytest.mark.django_db(transaction=True)  # the others run inside the test's own transaction
def test_a_lock_outside_a_transaction_is_refused_every_time(alice, cc_agent):
    locked = Select(lambda: Grant.objects.filter(user_id=Param("user")).select_for_update())
    with pytest.raises(TransactionManagementError):
        locked.one(user=alice.pk)  # when it would compile
    with transaction.atomic():
        assert locked.one(user=alice.pk).agent_id == cc_agent.pk
    with pytest.raises(TransactionManagementError):
        locked.one(user=alice.pk)  # and once compiled


def test_two_matching_rows_are_an_error_not_a_guess(alice):
    by_event = Select(lambda: AuditEvent.objects.filter(event=Param("event")))
    AuditEvent.objects.create(event="test.twice", actor="alice")
    assert by_event.one(event="test.twice").event == "test.twice"
    AuditEvent.objects.create(event="test.twice", actor="alice")

    with pytest.raises(AuditEvent.MultipleObjectsReturned):
        by_event.one(event="test.twice")


def test_all_reads_every_row_and_get_refuses_none(alice):
    by_event = Select(lambda: AuditEvent.objects.filter(event=Param("event")).order_by("pk"))
    first = AuditEvent.objects.create(event="test.many", actor="alice")
    second = AuditEvent.objects.create(event="test.many", actor="bob")

    assert [event.pk for event in by_event.all(event="test.many")] == [first.pk, second.pk]
    assert by_event.all(event="test.none") == []
    with pytest.raises(AuditEvent.DoesNotExist):
        by_event.get(event="test.none")


def test_a_query_it_cannot_build_instances_for_is_refused(cc_agent):
    with_owner = Select(lambda: Agent.objects.select_related("user").filter(pk=Param("pk")))
    with pytest.raises(TypeError, match="plain rows"):
        with_owner.one(pk=cc_agent.pk)


def test_a_token_request_loads_its_agent_owner_and_scope_names(alice, cc_agent):
    agent = known_agents.load(cc_agent.client_id)

    assert fields(agent) == fields(Agent.objects.get(pk=cc_agent.pk))
    assert fields(agent.user) == fields(alice)
    assert sorted(agent.allowed_scope_names) == sorted(cc_agent.scope_names() or [])
    with pytest.raises(Agent.DoesNotExist):
        known_agents.load("no-such-agent")


def test_scope_names_are_read_again_when_the_scopes_change(cc_agent, catalogue):
    cc_agent.allowed_scopes.set(Scope.objects.filter(name="documents:read"))
    assert cc_agent.scope_names() == ["documents:read"]

    cc_agent.allowed_scopes.add(Scope.objects.get(name="documents:write"))

    assert sorted(cc_agent.scope_names()) == ["documents:read", "documents:write"]
