import re

from django.core import mail
from django.test import Client


def test_password_reset_by_email(alice):
    client = Client()

    client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    link = re.search(r"https?://[^\s]+/reset/[^\s]+", mail.outbox[0].body).group(0)
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a fresh passphrase 9x", "new_password2": "a fresh passphrase 9x"}
    )

    assert done.status_code == 302
    assert client.login(username="alice", password="a fresh passphrase 9x")


def test_unknown_email_looks_the_same(db):
    response = Client().post("/accounts/password_reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302 and response["Location"].endswith("/password_reset/done/")
    assert mail.outbox == []


def test_wrong_password_shows_one_message_for_every_case(alice):
    wrong = Client().post("/accounts/login/", {"username": "alice", "password": "nope"})
    unknown = Client().post("/accounts/login/", {"username": "nobody", "password": "nope"})

    assert wrong.status_code == unknown.status_code == 200
    assert "didn't match" in wrong.content.decode() and "didn't match" in unknown.content.decode()
