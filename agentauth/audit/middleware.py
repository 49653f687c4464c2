"""Request ids: every audit record and log line written during a request names it."""

import re
import uuid

from agentauth.lib import logs

from . import trail

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-Id", "")
        request.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        bound, logged = trail.bind_request(request), logs.bind(request_id=request.request_id)
        try:
            response = self.get_response(request)
        finally:
            trail.unbind_request(bound)
            logs.unbind(logged)
        response["X-Request-Id"] = request.request_id
        return response
