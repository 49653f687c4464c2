"""A clean 503 when the database is unreachable, and a 400 for values it refuses."""

import logging

from django.db import DataError, InterfaceError, OperationalError
from django.http import JsonResponse

log = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A lost database connection answers 503 JSON with Retry-After, never a stack trace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DataError):
            # Input the database refuses (NUL bytes, out-of-range numbers) is the client's error.
            return JsonResponse({"error": "invalid_request", "error_description": "Unacceptable value."}, status=400)
        if isinstance(exception, (OperationalError, InterfaceError)):
            log.error("database unavailable: %s", exception)
            response = JsonResponse(
                {"error": "temporarily_unavailable", "error_description": "Try again shortly."}, status=503
            )
            response["Retry-After"] = "2"
            return response
        return None
