"""Request ids: every audit record written during a request names it."""

import re
import uuid

from . import trail

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-Id", "")
        request.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        bound = trail.bind_request(request)
        try:
            response = self.get_response(request)
        finally:
            trail.unbind_request(bound)
        response["X-Request-Id"] = request.request_id
        return response
