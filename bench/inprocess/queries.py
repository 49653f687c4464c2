"""Count the SQL statements of one token request and one documents-list call, through Django's test
client in process. Reads a client's credentials as JSON on stdin; prints JSON. Run as
`python -m bench.inprocess.queries` with AgentAuth's environment (bench database, Redis db 12)."""

import json
import sys
from urllib.parse import urlencode

import django

WARMUP_REQUESTS = 3


def _statements(captured):
    return [query["sql"][:110] for query in captured.captured_queries]


def main():
    credential = json.loads(sys.stdin.read())
    django.setup()

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # As Django's TestCase does: one connection throughout, so the query log spans the requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    client = Client(headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}, REMOTE_ADDR="127.0.0.1")
    form = urlencode({"grant_type": "client_credentials", "scope": "documents:read", **credential})

    def token_request():
        response = client.post("/o/token/", form, content_type="application/x-www-form-urlencoded")
        return response.json()["access_token"]

    for _ in range(WARMUP_REQUESTS):  # the first ones load the key caches and the scope catalogue
        token_request()
    with CaptureQueriesContext(connection) as captured:
        token = token_request()
    token_sql = _statements(captured)  # now: the next request clears the connection's query log
    bearer = {"Authorization": f"Bearer {token}"}
    for _ in range(WARMUP_REQUESTS):
        client.get("/api/v1/documents/", headers=bearer)
    with CaptureQueriesContext(connection) as captured:
        status = client.get("/api/v1/documents/", headers=bearer).status_code
    print(json.dumps({"token": token_sql, "api": _statements(captured), "api_status": status}))


if __name__ == "__main__":
    main()
