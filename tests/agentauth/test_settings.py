"""The deploy check: clean with a complete production environment, naming what is missing otherwise."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "auth.example.com",
    "AGENTAUTH_ISSUER": "https://auth.example.com",
    "DATABASE_URL": "postgres://agentauth@127.0.0.1:5432/agentauth",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_HOST": "smtp.example.com",
    "AGENTAUTH_REGISTRATION_TOKEN": "initial-access-token",
    "AGENTAUTH_VAPID_PRIVATE_KEY": "bpXBTWz8RgDeME3XR76R9LZ1YjeK8Kz99-6Ykvswtd0",  # a test key, nobody's
}


def deploy_check(environment):
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION}
    env |= environment
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_complete_production_environment_passes_the_deploy_check():
    result = deploy_check(PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "missing",
    ["REDIS_URL", "DATABASE_URL", "SECRET_KEY", "AGENTAUTH_ISSUER", "EMAIL_HOST", "AGENTAUTH_VAPID_PRIVATE_KEY"],
)
def test_deploy_check_names_the_missing_variable(missing):
    environment = {key: value for key, value in PRODUCTION.items() if key != missing}

    result = deploy_check(environment)

    assert result.returncode != 0
    assert missing in result.stdout + result.stderr
