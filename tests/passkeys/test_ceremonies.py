"""The server's side of passkeys, driven by a software authenticator that can also forge:
every check the WebAuthn spec asks of a relying party refuses, with a 4xx, what it must."""

import json
import time

import pytest

from agentauth.audit.models import AuditEvent
from agentauth.oauth.registration import register_agent
from approvals import services
from examples.payments import PAY
from passkeys.models import Passkey

from ..factories import UserFactory
from .authenticator import UP, SoftAuthenticator, b64

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def relying_party(settings):
    settings.AGENTAUTH_PASSKEY_RP_ID = "testserver"
    settings.AGENTAUTH_PASSKEY_ORIGINS = ["http://testserver"]


def post(client, url, body=None):
    return client.post(url, json.dumps(body) if body is not None else "", content_type="application/json")


def add_passkey(client, authenticator, name="Phone"):
    options = post(client, "/passkeys/options/register").json()
    return post(client, "/passkeys/add", {"credential": authenticator.create(options), "name": name})


@pytest.fixture
def person(client):
    user = UserFactory(username="pat")
    client.force_login(user)
    return user


@pytest.fixture
def enrolled(client, person):
    authenticator = SoftAuthenticator()
    assert add_passkey(client, authenticator).status_code == 201
    client.logout()
    return authenticator


def sign_in(client, authenticator, **forge):
    options = post(client, "/passkeys/options/sign-in").json()
    return post(client, "/passkeys/sign-in", {"credential": authenticator.get(options, **forge), "next": "/history/"})


def test_adding_a_passkey_keeps_its_key_and_transports_and_is_audited(client, person):
    answer = add_passkey(client, SoftAuthenticator(), name="  Work laptop ")
    assert answer.status_code == 201
    passkey = Passkey.objects.get(user=person)
    assert (passkey.name, passkey.transports, passkey.sign_count) == ("Work laptop", ["internal"], 1)
    assert AuditEvent.objects.filter(event="passkey.added", subject=person).exists()


def test_one_person_shares_one_random_user_handle(client, person):
    add_passkey(client, SoftAuthenticator())
    add_passkey(client, SoftAuthenticator())
    handles = {bytes(handle) for handle in Passkey.objects.values_list("user_handle", flat=True)}
    assert len(handles) == 1 and str(person.pk).encode() not in handles


def test_a_stale_session_cannot_add_a_passkey(client, person):
    session = client.session
    session["auth_time"] = int(time.time()) - 3600
    session.save()
    answer = post(client, "/passkeys/options/register")
    assert answer.status_code == 401 and answer.json()["error"] == "reauthentication_required"


@pytest.mark.parametrize(
    "forge, why",
    [
        ({"origin": "https://evil.example"}, "origin"),
        ({"rp_id": "evil.example"}, "RP ID"),
        ({"flags": UP | 0x40}, "verif"),
    ],
)
def test_a_forged_registration_is_refused(client, person, forge, why):
    options = post(client, "/passkeys/options/register").json()
    answer = post(client, "/passkeys/add", {"credential": SoftAuthenticator().create(options, **forge)})
    assert answer.status_code == 400 and why.lower() in answer.json()["error_description"].lower()
    assert not Passkey.objects.exists()


def test_sign_in_with_a_passkey(client, enrolled, person):
    answer = sign_in(client, enrolled)
    assert answer.status_code == 200 and answer.json() == {"redirect": "/history/"}
    assert client.get("/dashboard/").status_code == 200
    assert client.session["auth_method"] == "passkey"
    assert AuditEvent.objects.filter(event="signin.success", subject=person, details__method="passkey").exists()
    assert Passkey.objects.get().last_used_at is not None


def test_an_assertion_cannot_be_replayed(client, enrolled):
    options = post(client, "/passkeys/options/sign-in").json()
    assertion = enrolled.get(options)
    assert post(client, "/passkeys/sign-in", {"credential": assertion}).status_code == 200
    client.logout()
    assert post(client, "/passkeys/sign-in", {"credential": assertion}).status_code == 400


@pytest.mark.parametrize(
    "forge",
    [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"flags": UP}, {"user_handle": b"someone else"}],
    ids=["origin", "rp_id", "no user verification", "user handle"],
)
def test_a_forged_assertion_signs_nobody_in(client, enrolled, forge):
    answer = sign_in(client, enrolled, **forge)
    assert answer.status_code == 400 and answer.json()["error"] == "access_denied"
    assert client.get("/dashboard/").status_code == 302
    assert AuditEvent.objects.filter(event="signin.failure", details__method="passkey").exists()


def test_a_cloned_authenticator_whose_counter_went_back_is_refused(client, enrolled):
    assert sign_in(client, enrolled, count=10).status_code == 200
    client.logout()
    assert sign_in(client, enrolled, count=5).status_code == 400


def test_an_unknown_passkey_or_a_disabled_person_signs_nobody_in(client, enrolled, person):
    assert sign_in(client, SoftAuthenticator()).status_code == 400
    person.is_active = False
    person.save()
    assert sign_in(client, enrolled).status_code == 400


def test_a_sign_in_challenge_cannot_confirm_a_decision(client, enrolled, person):
    options = post(client, "/passkeys/options/sign-in").json()
    client.force_login(person)
    post(client, "/passkeys/options/confirm")
    answer = client.post("/approvals/none/reauth/", {"passkey": json.dumps(enrolled.get(options))})
    assert answer.status_code == 404  # not even a page for an approval that is not theirs


def test_sign_in_goes_nowhere_off_site(client, enrolled):
    options = post(client, "/passkeys/options/sign-in").json()
    answer = post(client, "/passkeys/sign-in", {"credential": enrolled.get(options), "next": "https://evil.example/"})
    assert answer.json() == {"redirect": "/dashboard/"}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "null",
        json.dumps({"credential": "x"}),
        json.dumps({"credential": {"id": 1}}),
        json.dumps({"credential": {"id": "a", "rawId": "!!", "type": "public-key", "response": []}}),
    ],
)
def test_malformed_answers_get_a_400_not_a_crash(client, enrolled, body):
    post(client, "/passkeys/options/sign-in")
    answer = client.post("/passkeys/sign-in", body, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["error"] in ("invalid_request", "access_denied")


def test_ceremonies_are_only_posted_and_known(client, person):
    assert client.get("/passkeys/options/sign-in").status_code == 405
    assert post(client, "/passkeys/options/elsewhere").status_code == 404
    client.logout()
    assert post(client, "/passkeys/options/confirm").status_code == 401


def test_passkey_checks_spend_the_sign_in_budget(client, enrolled, settings):
    limits = settings.AGENTAUTH_RATE_LIMITS
    settings.AGENTAUTH_RATE_LIMITS = {**limits, "default": {**limits["default"], "signin": "3/min"}}
    answers = [sign_in(client, enrolled, origin="https://evil.example").status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]
    assert sign_in(client, enrolled).status_code == 429  # even the right answer waits its turn


def test_step_up_with_a_passkey_approves_what_the_person_started(client, person, settings):
    authenticator = SoftAuthenticator()
    add_passkey(client, authenticator)
    agent, _ = register_agent(
        name="Payer", owner=person, grant_types=["client_credentials"], grant_scopes=["payments:execute"]
    )
    approval, _ = services.request_approval(
        user=person,
        agent=agent,
        action=PAY,
        params={"amount": "900.00", "currency": "EUR", "to": "Rail Co", "memo": ""},
    )
    someone_else = SoftAuthenticator()
    client.force_login(UserFactory(username="sam"))
    add_passkey(client, someone_else)  # a real passkey, but not this person's
    client.force_login(person)
    settings.APPROVAL_REAUTH_SECONDS = 0

    options = post(client, "/passkeys/options/confirm").json()
    refused = client.post(
        f"/approvals/{approval.pk}/reauth/", {"passkey": json.dumps(someone_else.get(options)), "approve": "1"}
    )
    approval.refresh_from_db()
    assert refused.status_code == 200 and approval.status == "pending"

    options = post(client, "/passkeys/options/confirm").json()
    assert [item["id"] for item in options["allowCredentials"]] == [b64(authenticator.credential_id)]
    done = client.post(
        f"/approvals/{approval.pk}/reauth/", {"passkey": json.dumps(authenticator.get(options)), "approve": "1"}
    )
    approval.refresh_from_db()
    assert done.status_code == 302 and approval.status in ("approved", "executed")
    assert AuditEvent.objects.get(event="approval.approved").details["auth_method"] == "passkey"


def test_removing_a_passkey_is_only_for_its_owner(client, person):
    add_passkey(client, SoftAuthenticator())
    passkey = Passkey.objects.get()
    client.force_login(UserFactory(username="mallory"))
    client.post(f"/passkeys/{passkey.pk}/remove/")
    assert Passkey.objects.filter(pk=passkey.pk).exists()
    client.force_login(person)
    client.post(f"/passkeys/{passkey.pk}/remove/")
    assert not Passkey.objects.exists()
    assert AuditEvent.objects.filter(event="passkey.removed", subject=person).exists()
