"""Is this process alive, and is it ready: the database, and Redis when it is configured."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from oauth2_provider.compat import login_not_required


def problems():
    """A dict naming each unreachable service and why; empty when all is well."""
    down = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        down["database"] = f"{type(error).__name__}: {error}".strip()[:200]
    if settings.REDIS_URL:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        except Exception as error:
            down["redis"] = f"{type(error).__name__}: {error}".strip()[:200]
    return down


@require_GET
@login_not_required
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
@login_not_required
def readyz(request):
    """Ready when the database (and Redis, when configured) answer; else 503 naming what is down."""
    down = problems()
    if down:
        return JsonResponse({"status": "unavailable", "down": down}, status=503)
    return JsonResponse({"status": "ready"})
