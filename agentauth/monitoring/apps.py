from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "agentauth.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"
