"""Hostile requests against real server processes: what reaches the wire, not a test client."""

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ..servers import asgi_process

pytestmark = [pytest.mark.django_db(transaction=True)]
BIG = {f"X-Padding-{n}": "a" * 8000 for n in range(6)}  # 48 KB, each line under any per-line cap
MANY = {f"X-Header-{n}": "v" for n in range(150)}


@pytest.fixture(params=["uvicorn", "daphne"])
def server(request):
    with asgi_process(server=request.param) as (base, _):
        yield request.param, base


@pytest.mark.catalogue("FZ-06")
def test_too_many_or_too_large_headers_get_a_4xx(server):
    name, base = server

    for headers in (BIG, MANY):
        response = requests.get(f"{base}/healthz", headers=headers, timeout=10)
        # Daphne's own parser may answer 400 first; uvicorn leaves it to our limit (431).
        assert response.status_code == 431 if name == "uvicorn" else 400 <= response.status_code < 500
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200  # and the server is fine


@pytest.mark.catalogue("FZ-06")
def test_a_megabyte_header_gets_431_from_the_production_server():
    with asgi_process(server="uvicorn") as (base, _):
        response = requests.get(f"{base}/healthz", headers={"X-Huge": "a" * 1_000_000}, timeout=10)

    # uvicorn's parser alone accepts it and would hand a megabyte of headers to the application.
    assert response.status_code == 431 and response.json()["error"] == "invalid_request"


@pytest.mark.catalogue("WS-05")
def test_a_websocket_handshake_with_huge_headers_is_refused(server):
    _, base = server

    with pytest.raises(InvalidStatus) as refused:
        connect(base.replace("http", "ws") + "/ws/approvals/", additional_headers={"Origin": base, **BIG})

    assert 400 <= refused.value.response.status_code < 500
