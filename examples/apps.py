from django.apps import AppConfig


class ExamplesConfig(AppConfig):
    name = "examples"
    verbose_name = "Example protected API"

    def ready(self):
        from . import urls  # noqa: F401 - its views' modules register their actions (web and worker)
