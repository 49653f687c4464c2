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
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # some tests set it; no deployment would
    env |= environment
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """Static files collected the way production serves them (whitenoise's manifest)."""
    root = tmp_path_factory.mktemp("static")
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION} | PRODUCTION
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=env | {"STATIC_ROOT": str(root)},
        check=True,
        timeout=120,
    )
    return {**PRODUCTION, "STATIC_ROOT": str(root)}


def test_complete_production_environment_passes_the_deploy_check(collected):
    result = deploy_check(collected)

    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_names_uncollected_static_files(tmp_path):
    result = deploy_check({**PRODUCTION, "STATIC_ROOT": str(tmp_path)})

    assert result.returncode != 0 and "collectstatic" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "missing",
    ["REDIS_URL", "DATABASE_URL", "SECRET_KEY", "AGENTAUTH_ISSUER", "EMAIL_HOST", "AGENTAUTH_VAPID_PRIVATE_KEY"],
)
def test_deploy_check_names_the_missing_variable(missing):
    environment = {key: value for key, value in PRODUCTION.items() if key != missing}

    result = deploy_check(environment)

    assert result.returncode != 0
    assert missing in result.stdout + result.stderr
