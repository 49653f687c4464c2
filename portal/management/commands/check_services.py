"""Exit non-zero, naming the problem, when the services a process needs are not reachable."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agentauth.lib.health import problems


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--require-redis", action="store_true", help="fail when REDIS_URL is unset")

    def handle(self, *args, **options):
        if options["require_redis"] and not settings.REDIS_URL:
            raise CommandError(
                "REDIS_URL is not set: a separate Celery process needs Redis as its broker. "
                "On the embedded default, tasks already run inside the web process."
            )
        down = problems()
        if down:
            raise CommandError("Cannot start: " + "; ".join(f"{name} is down ({why})" for name, why in down.items()))
        self.stdout.write("Services reachable.")
