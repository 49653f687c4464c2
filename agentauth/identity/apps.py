from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IdentityConfig(AppConfig):
    name = "agentauth.identity"
    # The label the app had before the core was split: table names, migrations and the swapped
    # DOT model names (agentauth.Agent, agentauth.AccessToken, ...) stay as they were.
    label = "agentauth"
    verbose_name = "Agent identity"

    def ready(self):
        from agentauth.lib import checks  # noqa: F401 - registers the deploy checks

        from . import receivers, seed  # noqa: F401 - connects receivers

        post_migrate.connect(seed.seed_scopes, sender=self)
