from django.apps import AppConfig


class ExamplesConfig(AppConfig):
    name = "examples"
    verbose_name = "Example protected API"

    def ready(self):
        from . import payments  # noqa: F401 - registers the payments.create action (web and worker)
