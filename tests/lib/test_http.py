from django.test import RequestFactory

from agentauth.lib.http import credentials


def authorization(value=None):
    headers = {} if value is None else {"HTTP_AUTHORIZATION": value}
    return RequestFactory().get("/", **headers)


def test_the_scheme_is_case_insensitive_and_the_credentials_trimmed():
    assert credentials(authorization("bEaReR  abc.def "), "bearer") == "abc.def"


def test_no_header_is_none_and_another_scheme_or_nothing_is_empty():
    assert credentials(authorization(), "bearer") is None
    assert credentials(authorization("Basic dXNlcjpwdw=="), "bearer") == ""
    assert credentials(authorization("Bearer"), "bearer") == ""
    assert credentials(authorization("Bearer "), "bearer") == ""
