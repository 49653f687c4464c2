"""Refuse requests whose headers are too big before any of our code reads them.

Uvicorn's default parser (httptools) accepts megabytes of headers; Daphne drops the connection
without an answer. Either way a client learns nothing, and a proxy in front may not be there.
Here every server answers the same: 431 for HTTP, a refused handshake for WebSockets.
"""

from django.conf import settings


class HeaderLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and _too_big(scope["headers"]):
            if scope["type"] == "http":
                await _refuse_http(send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)


def _too_big(headers):
    if len(headers) > settings.AGENTAUTH_MAX_HEADER_COUNT:
        return True
    return sum(len(name) + len(value) for name, value in headers) > settings.AGENTAUTH_MAX_HEADER_BYTES


async def _refuse_http(send):
    body = b'{"error": "invalid_request", "error_description": "Request headers are too large."}'
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
