from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "agentauth.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        from . import receivers  # noqa: F401 - connects receivers
