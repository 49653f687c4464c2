"""ASGI entry point: HTTP through Django, WebSockets through Channels (origin-checked, session-authenticated)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentauth.settings")
# Django must be set up before anything imports models: the Channels imports below do.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from live.routing import websocket_urlpatterns  # noqa: E402

from .lib.asgi_limits import HeaderLimit  # noqa: E402

if os.getenv("AGENTAUTH_RUN_SCHEDULE"):  # `make run`: no beat on the embedded default
    from .celery import app as celery_app
    from .lib import schedule

    schedule.start(celery_app)

application = HeaderLimit(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
