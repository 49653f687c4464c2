from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "agentauth.consent"
    label = "consent"
    verbose_name = "Consent"
