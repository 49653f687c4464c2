"""Every signed-in request reads its session and its person by queries compiled once
(agentauth.identity.sessions and .backends): they must read exactly what Django's db session
engine and ModelBackend read, and refuse what those refuse."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agentauth.identity.backends import PersonBackend
from agentauth.identity.sessions import SessionStore
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(person):
    client = Client()
    assert client.login(username=person.username, password=PASSWORD)
    return client, client.cookies["sessionid"].value


def test_a_session_reads_what_the_db_engine_reads(alice):
    _, key = signed_in(alice)

    with CaptureQueriesContext(connection) as queries:
        ours = SessionStore(key).load()

    assert ours == db.SessionStore(key).load()
    assert ours["_auth_user_id"] == str(alice.pk)
    assert len(queries) == 1


def test_async_callers_read_the_same(alice):
    _, key = signed_in(alice)

    assert async_to_sync(SessionStore(key).aload)() == SessionStore(key).load()
    assert async_to_sync(PersonBackend().aget_user)(alice.pk) == alice


def test_an_expired_or_unknown_session_is_empty_and_its_key_dropped(alice):
    _, key = signed_in(alice)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))

    for unknown in (key, "no-such-session-key-at-all"):
        store = SessionStore(unknown)
        assert store.load() == {}
        assert store.session_key is None  # the next save starts a new session, as the db engine does


def test_the_person_is_read_as_model_backend_reads_them(alice):
    ours, stock = PersonBackend().get_user(alice.pk), ModelBackend().get_user(alice.pk)

    fields = [field.attname for field in type(alice)._meta.concrete_fields]
    assert [getattr(ours, name) for name in fields] == [getattr(stock, name) for name in fields]
    assert PersonBackend().get_user(alice.pk + 1000) is None


def test_a_signed_in_request_uses_both(alice):
    client, key = signed_in(alice)

    assert client.get("/dashboard/").status_code == 200
    assert db.SessionStore(key).load()[BACKEND_SESSION_KEY] == "agentauth.identity.backends.PersonBackend"


def test_a_deactivated_person_is_signed_out_on_their_next_request(alice):
    client, _ = signed_in(alice)
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)

    assert client.get("/dashboard/").status_code == 302


def test_an_expired_session_is_signed_out(alice):
    client, key = signed_in(alice)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))

    assert client.get("/dashboard/").status_code == 302
