from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self):
        from . import ciba, receivers  # noqa: F401 - connects receivers, registers the CIBA grant
