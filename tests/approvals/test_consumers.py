"""The live feed over a real WebSocket application stack (origin check, session auth, groups)."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from agentauth.asgi import application
from approvals import services
from examples.payments import PAY

from ..conftest import with_rate

pytestmark = [pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://localhost")


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def feed(user=None, origin=ORIGIN):
    headers = [origin] if origin else []
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, "/ws/approvals/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


@sync_to_async
def ask(user, agent, amount="50.00"):
    params = {"amount": amount, "currency": "EUR", "to": "ACME", "memo": ""}
    approval, _ = services.request_approval(
        user=user,
        agent=agent,
        action=PAY,
        params=params,
    )
    return approval


@pytest.mark.catalogue("WS-02")
async def test_a_socket_without_a_session_is_closed_4401():
    communicator, connected, code = await feed()

    assert not connected and code == 4401


@pytest.mark.catalogue("WS-01")
@pytest.mark.parametrize(
    "origin", [b"https://evil.test", b"null", b"http://localhost.evil.test", b"https://127.0.0.1.evil.test", None]
)
async def test_a_foreign_origin_is_refused_at_the_handshake(alice, origin):
    communicator, connected, _ = await feed(alice, origin=(b"origin", origin) if origin else None)

    assert not connected


async def test_pending_approvals_are_sent_on_connect(alice, payer):
    approval = await ask(alice, payer)

    communicator, connected, _ = await feed(alice)
    event = await communicator.receive_json_from(timeout=2)

    assert connected
    assert event["type"] == "approval.created"
    assert event["approval"]["id"] == approval.pk
    assert event["approval"]["summary"] == "Pay 50.00 EUR to ACME"
    await communicator.disconnect()


@pytest.mark.catalogue("WS-03")
async def test_events_reach_every_tab_of_the_person_and_nobody_else(alice, bob, payer):
    first_tab, _, _ = await feed(alice)
    second_tab, _, _ = await feed(alice)
    bobs_tab, _, _ = await feed(bob)

    approval = await ask(alice, payer)

    for tab in (first_tab, second_tab):
        event = await tab.receive_json_from(timeout=2)
        assert event["type"] == "approval.created" and event["approval"]["id"] == approval.pk
    assert await bobs_tab.receive_nothing(timeout=0.3)
    for tab in (first_tab, second_tab, bobs_tab):
        await tab.disconnect()


@pytest.mark.catalogue("WS-03")
async def test_a_decision_cannot_be_sent_over_the_socket(alice, payer):
    approval = await ask(alice, payer)
    tab, _, _ = await feed(alice)
    await tab.receive_json_from(timeout=2)

    await tab.send_json_to({"type": "decision", "approval_id": approval.pk, "decision": "approve"})
    reply = await tab.receive_json_from(timeout=2)

    assert reply["error"] == "read_only"
    await approval.arefresh_from_db()
    assert approval.status == "pending"
    await tab.disconnect()


@pytest.mark.catalogue("WS-05")
async def test_an_oversized_frame_closes_the_socket(alice):
    tab, _, _ = await feed(alice)

    await tab.send_to(text_data=json.dumps({"x": "y" * 10_000}))
    closed = await tab.receive_output(timeout=2)

    assert closed["type"] == "websocket.close" and closed["code"] == 1009


@pytest.mark.catalogue("WS-05")
async def test_a_flood_of_frames_is_cut_off_not_answered(alice):
    tab, _, _ = await feed(alice)

    for _ in range(50):
        await tab.send_to(text_data="{}")
    replies = []
    while (message := await tab.receive_output(timeout=2))["type"] != "websocket.close":
        replies.append(message)

    assert len(replies) == 5  # the allowance, then nothing more per frame
    assert message["code"] == 1008


@pytest.mark.catalogue("WS-05")
async def test_opening_sockets_in_a_loop_is_throttled_per_person(alice, bob, settings):
    with_rate(settings, "socket", "3/hour")

    attempts = [await feed(alice) for _ in range(4)]
    bob_tab, bob_connected, _ = await feed(bob)

    assert [connected for _, connected, _ in attempts] == [True, True, True, False]
    assert attempts[-1][2] == 4429
    assert bob_connected  # one person's loop does not lock out another
    for tab, connected, _ in [*attempts, (bob_tab, bob_connected, None)]:
        if connected:
            await tab.disconnect()


@pytest.mark.catalogue("WS-04")
async def test_signing_out_closes_the_sockets_of_that_session(alice):
    client = Client()
    await sync_to_async(client.force_login)(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    tab = WebsocketCommunicator(application, "/ws/approvals/", headers=[ORIGIN, (b"cookie", cookie)])
    connected, _ = await tab.connect()
    assert connected

    await sync_to_async(client.post)("/accounts/logout/")
    closed = await tab.receive_output(timeout=2)

    assert closed["type"] == "websocket.close" and closed["code"] == 4401
