"""insert() stores exactly what save() would, in one precompiled INSERT, and refuses models
whose save receivers it would silently skip; insert_while() stores rows only while another row is
as it was read."""

import hashlib
from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone
from oauth2_provider.models import set_token_value

from agentauth.audit.models import AuditEvent
from agentauth.consent.grants import standing_grant
from agentauth.consent.models import Grant
from agentauth.identity.models import AccessToken, Agent
from agentauth.lib.inserts import Changed, insert, insert_while

pytestmark = pytest.mark.django_db


def stored(model, pk):
    row = model.objects.get(pk=pk)
    return {name: value for name, value in model_to_dict(row).items() if name != "id"}


def test_an_audit_record_is_stored_as_save_stores_it(alice):
    def record():
        return AuditEvent(
            at=timezone.now().replace(microsecond=0),
            event="test.inserted",
            actor="alice",
            subject=alice,
            scope="documents:read",
            ip="192.0.2.1",
            details={"nested": {"list": [1, "two", None]}, "text": "é"},
        )

    saved, inserted = record(), record()
    saved.save()
    insert(inserted)

    assert inserted.pk and inserted.pk != saved.pk and not inserted._state.adding
    assert stored(AuditEvent, inserted.pk) == stored(AuditEvent, saved.pk)


def test_a_token_row_gets_its_checksum_and_timestamps_as_save_gives_them(alice, cc_agent):
    expires = timezone.now() + timedelta(minutes=5)

    def token(raw):
        row = AccessToken(user=alice, application=cc_agent, scope="documents:read", expires=expires, jti=raw)
        set_token_value(row, raw)
        return row

    saved, inserted = token("first"), token("second")
    saved.save()
    insert(inserted)
    found = AccessToken.objects.get(pk=inserted.pk)

    assert found.token_checksum == hashlib.sha256(b"second").hexdigest() and found.token == ""  # hashed at rest
    assert found.created is not None and found.updated is not None
    assert {**stored(AccessToken, inserted.pk), "jti": "", "token_checksum": ""} == {
        **stored(AccessToken, saved.pk),
        "jti": "",
        "token_checksum": "",
    }


def test_a_model_with_save_receivers_is_refused(alice):
    with pytest.raises(TypeError, match="save receivers"):
        insert(Agent(name="never saved", user=alice))
    assert not Agent.objects.filter(name="never saved").exists()


def _token_and_record(alice, agent, jti):
    row = AccessToken(user=alice, application=agent, scope="documents:read", expires=timezone.now(), jti=jti)
    set_token_value(row, jti)
    return row, AuditEvent(at=timezone.now(), event="test.inserted", subject=alice, details={"jti": jti})


def test_rows_are_inserted_together_while_the_row_they_rest_on_is_unchanged(alice, cc_agent):
    grant = standing_grant(alice, cc_agent)
    row, record = _token_and_record(alice, cc_agent, "kept")

    assert insert_while(grant, ["changed_at"], row, record) == [row, record]

    assert AccessToken.objects.get(pk=row.pk).jti == "kept" and not row._state.adding
    assert AuditEvent.objects.get(pk=record.pk).details == {"jti": "kept"}


def test_nothing_is_inserted_once_the_row_they_rest_on_has_changed(alice, cc_agent):
    grant = standing_grant(alice, cc_agent)  # read, then narrowed before the write
    Grant.objects.filter(pk=grant.pk).update(changed_at=timezone.now() + timedelta(seconds=1))
    row, record = _token_and_record(alice, cc_agent, "lost")

    with pytest.raises(Changed):
        insert_while(grant, ["changed_at"], row, record)

    assert not AccessToken.objects.filter(jti="lost").exists()
    assert not AuditEvent.objects.filter(event="test.inserted").exists()
    assert row.pk is None and record.pk is None


def test_nothing_is_inserted_once_the_row_they_rest_on_is_gone(alice, cc_agent):
    grant = standing_grant(alice, cc_agent)
    Grant.objects.filter(pk=grant.pk).delete()

    with pytest.raises(Changed):
        insert_while(grant, ["changed_at"], *_token_and_record(alice, cc_agent, "gone"))

    assert not AccessToken.objects.filter(jti="gone").exists()
