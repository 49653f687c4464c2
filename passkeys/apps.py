from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    name = "passkeys"
    verbose_name = "Passkeys"

    def ready(self):
        from . import receivers  # noqa: F401 - connects receivers
