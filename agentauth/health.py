"""What is down: the database, and Redis when it is configured."""

import redis
from django.conf import settings
from django.db import connection


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
