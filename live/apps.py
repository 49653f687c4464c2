from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = "Live delivery"

    def ready(self):
        from . import receivers  # noqa: F401 - connects receivers
