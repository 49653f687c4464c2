"""Rate limits for resource APIs: token buckets per agent and per person (DRF throttle class)."""

from rest_framework.throttling import BaseThrottle

from agentauth.identity.tokens import AccessClaims
from agentauth.lib import ratelimit

from .errors import TemporarilyUnavailable
from .permissions import required_scopes


class AgentRateThrottle(BaseThrottle):
    """The tightest rate of the scopes in play, per agent and per person; a call that is not an
    agent's (a person's session) is not limited here."""

    def allow_request(self, request, view):
        claims = request.auth
        if not isinstance(claims, AccessClaims):
            return True
        buckets = [("agent", f"api:agent:{claims.client_id}"), ("person", f"api:person:{claims.subject}")]
        try:
            self.retry_after = ratelimit.retry_after(buckets, required_scopes(request, view) or ())
        except ratelimit.RateLimitUnavailable:
            raise TemporarilyUnavailable("Rate limits cannot be checked right now; try again shortly.") from None
        return self.retry_after is None

    def wait(self):
        return self.retry_after
