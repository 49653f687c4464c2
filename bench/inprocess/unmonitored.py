"""AgentAuth with API monitoring switched off, for scenario 5's "off" run.

With `AGENTAUTH_MONITORING=False` honoured by the product this is just its own entry point; until
the product has that switch, monitoring stops listening to the API's calls (its api_called
receiver is disconnected).
"""

from agentauth.wsgi import application  # sets Django up: import it first  # isort: skip

import sys

from django.conf import settings

from agentauth.monitoring.receivers import count_the_call
from agentauth.resource.signals import api_called

MARKER = "bench-monitoring-off:"

if hasattr(settings, "AGENTAUTH_MONITORING"):
    print(MARKER, "the product's AGENTAUTH_MONITORING=False", file=sys.stderr, flush=True)
else:
    api_called.disconnect(count_the_call)
    print(
        MARKER, "monitoring's api_called receiver disconnected (the product has no switch)", file=sys.stderr, flush=True
    )


def __getattr__(name):
    # The ASGI application is only built when asked for (uvicorn serving the API).
    if name == "asgi_application":
        from agentauth.asgi import application as asgi

        return asgi
    raise AttributeError(name)


__all__ = ["application"]
