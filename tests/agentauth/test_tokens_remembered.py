"""A verified token is remembered, not re-verified, while it is valid: and never past that."""

import pytest

from agentauth.identity import keys, tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(oauth, cc_agent):
    raw = oauth.token({"grant_type": "client_credentials"}, cc_agent).json()["access_token"]
    tokens.verify_access_token(raw)  # now remembered
    return raw


def test_a_remembered_token_skips_the_signature_check(token, monkeypatch):
    monkeypatch.setattr(tokens, "_verified", lambda *args: pytest.fail("verified again"))
    assert tokens.verify_access_token(token).client_id


def test_a_remembered_token_is_refused_once_it_expires(token, monkeypatch):
    monkeypatch.setattr(tokens, "CLOCK_SKEW_SECONDS", -3600)  # as if an hour had passed, for every check
    with pytest.raises(tokens.InvalidToken):
        tokens.verify_access_token(token)


def test_a_remembered_token_is_refused_once_its_key_is_no_longer_published(token, monkeypatch):
    monkeypatch.setattr(keys, "verifying_key", lambda kid: None)
    with pytest.raises(tokens.InvalidToken):
        tokens.verify_access_token(token)


def test_a_remembered_token_is_still_checked_against_revocations(token, cc_agent):
    from agentauth.identity import lifecycle

    lifecycle.suspend(cc_agent)
    with pytest.raises(tokens.RevokedToken):
        tokens.verify_access_token(token)


def test_another_audience_is_not_a_remembered_token(token):
    with pytest.raises(tokens.InvalidToken):
        tokens.verify_access_token(token, audience="https://elsewhere.example/")
