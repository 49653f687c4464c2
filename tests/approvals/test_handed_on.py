"""An approval asked for with a token handed on between agents shows the person the whole chain."""

from urllib.parse import urlencode

from django.test import Client

from agentauth.consent import delegations
from agentauth.oauth.exchange import ACCESS_TOKEN_TYPE
from approvals.models import ApprovalRequest
from live import notifications, push

from ..conftest import basic_auth
from ..factories import owned_agent

PAYING = ["payments:execute", "payments:read"]


def token(client, agent, **params):
    data = {"grant_type": "client_credentials"} | params
    answer = client.post("/o/token/", urlencode(data), "application/x-www-form-urlencoded", **basic_auth(agent))
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"]


def ask_to_pay(bearer, memo):
    """The agent holding `bearer` asks to pay 950 EUR (above the limit: the person decides)."""
    asked = Client().post(
        "/api/v1/payments/",
        {"amount": "950.00", "currency": "EUR", "to": "ACME Ltd", "memo": memo},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
    )
    assert asked.status_code == 202, asked.content
    return asked.json()["approval_id"]


def handed_on_payment(client, person, memo):
    """Planner hands Shopper a token (the person allowed it); Shopper asks to pay with it."""
    planner, shopper = owned_agent(person, "Planner", PAYING), owned_agent(person, "Shopper", PAYING)
    delegations.allow(person, planner, shopper, PAYING)
    handed = token(
        client,
        planner,
        grant_type="urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token=token(client, planner),
        subject_token_type=ACCESS_TOKEN_TYPE,
        audience=shopper.client_id,
    )
    return ask_to_pay(handed, memo)


def test_the_approval_page_names_the_agents_that_handed_the_work_on(client, alice, catalogue):
    approval_id = handed_on_payment(client, alice, "Invoice 7")

    client.force_login(alice)
    page = client.get(f"/approvals/{approval_id}/").content.decode()

    assert "Handed on by" in page and 'Planner</a> → <span class="agent-name">Shopper' in page


def test_an_agents_own_request_names_no_chain(client, alice, catalogue):
    approval_id = ask_to_pay(token(client, owned_agent(alice, "Shopper", PAYING)), "Invoice 8")

    client.force_login(alice)

    assert "Handed on by" not in client.get(f"/approvals/{approval_id}/").content.decode()


def test_the_phone_and_the_e_mail_name_them_too(client, alice, catalogue, mailoutbox):
    approval = ApprovalRequest.objects.get(pk=handed_on_payment(client, alice, "Invoice 9"))

    assert push.message(approval)["title"] == "Shopper (handed on by Planner) asks you to approve"
    notifications.email_person(approval)
    assert "Shopper (handed on by Planner) asks to:" in mailoutbox[-1].body
