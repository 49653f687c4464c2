"""Real processes for tests: ASGI servers and Celery workers on this machine, sharing the test
database (and Redis, when configured) with the test process."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**extra):
    """The settings a child process needs to see what the test process sees."""
    database = settings.DATABASES["default"]
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "SQLITE_PATH")}
    if database["ENGINE"] == "django.db.backends.postgresql":
        password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
        env["DATABASE_URL"] = (
            f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
        )
    else:
        env["SQLITE_PATH"] = str(database["NAME"])
    env |= {
        "DEBUG": "True",
        "AGENTAUTH_ISSUER": settings.AGENTAUTH_ISSUER,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "agentauth.settings",
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env | extra


def _wait(check, what, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {process.stdout.read()[-2000:]}")
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start in {timeout} s")


@contextmanager
def asgi_server(**extra_env):
    """One Daphne process serving agentauth.asgi on a free loopback port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own server on loopback
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "agentauth.asgi:application"],
        cwd=ROOT,
        env=environment(**extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: requests.get(f"{url}/healthz", timeout=1).status_code == 200, "ASGI server", process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def celery_worker(**extra_env):
    """A real Celery worker process (solo pool) consuming from the Redis broker."""
    from agentauth.celery import app

    process = subprocess.Popen(  # noqa: S603 - our own worker
        [
            str(BIN / "celery"),
            "-A",
            "agentauth",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=environment(**extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait(lambda: app.control.ping(timeout=0.5), "Celery worker", process, timeout=60)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
