"""Deploy checks: `manage.py check --deploy` names whatever production is missing."""

from pathlib import Path

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def production_environment(app_configs, **kwargs):
    problems = []
    if settings.DEBUG:
        return problems

    def error(message, hint, id):
        problems.append(checks.Error(message, hint=hint, id=f"agentauth.{id}"))

    if not settings.REDIS_URL:
        error(
            "REDIS_URL is not set.",
            "The in-memory channel layer and eager Celery do not cross processes; set REDIS_URL.",
            "E001",
        )
    if not settings.DATABASE_URL:
        error("DATABASE_URL is not set.", "Production runs on PostgreSQL: set DATABASE_URL.", "E002")
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        error("SECRET_KEY is the development key.", "Set SECRET_KEY to a long random value.", "E003")
    if not settings.AGENTAUTH_ISSUER.startswith("https://"):
        error(
            "AGENTAUTH_ISSUER is not an https URL.",
            "Set AGENTAUTH_ISSUER to the public https origin of this server, e.g. https://auth.example.com.",
            "E004",
        )
    if not settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS:
        error(
            "ALLOWED_HOSTS is empty or contains '*'.",
            "List the host names; '*' also disables the WebSocket origin check.",
            "E005",
        )
    if not settings.AGENTAUTH_VAPID_PRIVATE_KEY:
        error(
            "AGENTAUTH_VAPID_PRIVATE_KEY is not set.",
            "Web Push needs the server's own VAPID key: `vapid --gen` (py_vapid) prints one; keep it stable.",
            "E008",
        )
    if settings.AGENTAUTH_OPEN_REGISTRATION is False and not settings.AGENTAUTH_REGISTRATION_TOKEN:
        error(
            "AGENTAUTH_REGISTRATION_TOKEN is not set.",
            "Dynamic client registration needs an initial access token in production (RFC 7591 §3).",
            "E006",
        )
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        error(
            "The static files are not collected.",
            "Run `manage.py collectstatic` (the image does): without its manifest every page answers 500.",
            "E009",
        )
    if not settings.AGENTAUTH_EMAIL_HOST:
        error("EMAIL_HOST is not set.", "People are told about approvals by e-mail: set EMAIL_HOST.", "E007")
    return problems
