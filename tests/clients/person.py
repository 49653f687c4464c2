"""The person's side, over HTTP only (no Django here: `person_browser.py` runs it on its own)."""

import html
import re

import requests

PASSWORD = "correct horse battery staple"
PERSON = "carol"


def signed_in(issuer, username=PERSON):
    """The person's browser: a session signed in through the sign-in form."""
    session = requests.Session()
    # A new connection per request: a kept-alive one the server closed meanwhile fails a POST
    # ("Remote end closed connection"), which is not retried.
    session.headers["Connection"] = "close"
    session.get(f"{issuer}/accounts/login/", timeout=10)
    answer = session.post(
        f"{issuer}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def decide(browser, issuer, approval_id, decision, reason=""):
    """The person approves or denies from their portal (the JSON decision API, session + CSRF)."""
    answer = browser.post(
        f"{issuer}/api/v1/approvals/{approval_id}/decision",
        json={"decision": decision, "reason": reason},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()


def approve_device_code(browser, issuer, user_code, scopes, allow=True):
    """The person types the code on the device page, then allows `scopes` (or denies) on the consent form."""
    csrf = {"csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    page = browser.post(f"{issuer}/device/", data={"user_code": user_code} | csrf, timeout=10)
    assert page.status_code == 200, page.text[:500]
    signed = html.unescape(re.search(r'name="request" value="([^"]+)"', page.text).group(1))
    choice = {"scope": scopes, "allow": "1"} if allow else {"deny": "1"}
    done = browser.post(f"{issuer}/device/", data={"request": signed} | choice | csrf, timeout=10)
    assert done.status_code == 200, done.text[:500]
