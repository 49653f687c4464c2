"""AgentAuth's documents API with none of AgentAuth's checks on the call: scenario 2's ceiling.

The same view, DRF, middleware, gunicorn and database as the product, but the person is read from
the token's payload without verifying it, and there is no scope check, rate limit or monitoring.
No authentication step can make the call cheaper than this, so this server's rate against DOT's is
the highest ratio scenario 2 could reach in the same run. Bench-only: it trusts any token.
"""

from agentauth.wsgi import application  # sets Django up: import it first  # isort: skip

from types import SimpleNamespace

import jwt
from rest_framework.authentication import BaseAuthentication

from examples.views import DocumentList


class UnverifiedPerson(BaseAuthentication):
    def authenticate(self, request):
        raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[2]
        claims = jwt.decode(raw, options={"verify_signature": False})
        return SimpleNamespace(pk=int(claims["sub"]), is_authenticated=True), None


DocumentList.authentication_classes = [UnverifiedPerson]
DocumentList.permission_classes = []
DocumentList.throttle_classes = []

__all__ = ["application"]
