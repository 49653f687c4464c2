"""Real processes for tests: ASGI servers and Celery workers on this machine, sharing the test
database (and Redis, when configured) with the test process."""

import os
import shutil
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


LOGS = ROOT / "test-artifacts" / "processes"


def spawn(name, command, *, own_group=False, **extra_env):
    """Start a child process whose output goes to test-artifacts/processes/<name>-<n>.log.

    Never a pipe: nobody reads it while the test runs, and a child that fills a pipe's 64 KiB
    (a server logging every request) blocks on its next write and looks like a hung server.
    """
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(  # noqa: S603 - our own servers and workers
        command,
        cwd=ROOT,
        env=environment(**extra_env),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=own_group,  # so the test can kill it with all its children, like a container
    )
    process.log = log
    return process


def stop(process, grace=15):
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds; closes its log."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    process.log.close()


def wait_for(condition, timeout=20):
    """Whether `condition()` became true within `timeout` seconds (checked every 0.2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def output_of(process, limit=2000):
    process.log.flush()
    return Path(process.log.name).read_text(errors="replace")[-limit:]


def wait_until_up(check, what, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {output_of(process)}")
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
    with asgi_process(**extra_env) as (url, _):
        yield url


@contextmanager
def celery_worker(**extra_env):
    """A real Celery worker process (solo pool) consuming from the Redis broker."""
    from agentauth.celery import app

    broker = extra_env.get("REDIS_URL")
    ping = (lambda: app.control.ping(timeout=0.5)) if not broker else (lambda: _ping_worker(broker))
    process = spawn(
        "celery",
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
        **extra_env,
    )
    try:
        wait_until_up(ping, "Celery worker", process, timeout=60)
        yield process
    finally:
        stop(process)


class RedisServer:
    """The suite's own redis-server on a free loopback port, to stop and start at will."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 - our own server on loopback
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        wait_until_up(
            lambda: redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping(), "redis-server", self.process
        )
        return self

    def kill(self):
        """SIGKILL: no shutdown, no save, clients' connections cut mid-command."""
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def can_restart_postgres():
    """The machine's own cluster, restartable here: root, pg_ctlcluster, a local database."""
    database = settings.DATABASES["default"]
    local = database["ENGINE"].endswith("postgresql") and database["HOST"] in ("127.0.0.1", "localhost", "")
    return local and os.geteuid() == 0 and shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir()


def restart_postgres():
    """Restart the local PostgreSQL cluster (fast mode: every connection is cut), wait until it
    accepts connections again, and let this process reconnect."""
    from django.db import connections

    version = sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(  # noqa: S603, S607 - the machine's own cluster
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    deadline = time.monotonic() + 30
    while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode != 0:  # noqa: S603, S607
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back")
        time.sleep(0.2)
    connections.close_all()
    for connection in connections.all():
        if hasattr(connection, "close_pool"):
            # This process's pool saw the server go away and may be backing off; start afresh
            # (the servers under test must recover on their own, and the test checks they do).
            connection.close_pool()


def run_command(*args, **extra_env):
    """A manage.py command in a child process with the test's database and the given services."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(**extra_env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextmanager
def celery_beat(**extra_env):
    """A real beat process (the project's SingleBeat scheduler) with its own schedule file."""
    schedule = LOGS / f"beat-{os.getpid()}-{time.monotonic_ns()}"
    process = spawn(
        "beat",
        [str(BIN / "celery"), "-A", "agentauth", "beat", "--loglevel", "INFO", "--schedule", str(schedule)],
        **extra_env,
    )
    try:
        yield process
    finally:
        stop(process)


@contextmanager
def asgi_process(port=None, server="daphne", **extra_env):
    """Like asgi_server, but hands back the process too, so a test can kill it.

    `server` is "daphne" (what `make run` serves with) or "uvicorn" (the Procfile's).
    """
    port = port or free_port()
    commands = {
        "daphne": [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "agentauth.asgi:application"],
        "uvicorn": [str(BIN / "uvicorn"), "agentauth.asgi:application", "--port", str(port), "--lifespan", "off"],
    }
    process = spawn(server, commands[server], **extra_env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(lambda: requests.get(f"{url}/healthz", timeout=1).status_code == 200, "ASGI server", process)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        process.log.close()


def _ping_worker(broker):
    from celery import Celery

    probe = Celery(broker=broker, set_as_current=False)  # else shared tasks follow it, not the eager app
    try:
        return probe.control.ping(timeout=0.5)
    finally:
        probe.close()
