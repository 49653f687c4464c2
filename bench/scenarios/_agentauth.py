"""Start, seed and stop real AgentAuth processes for the approval and socket benchmarks.

Django only ever runs in child processes (ASGI servers, the Celery worker, the seeding and
producer commands below), so the bench process never binds its settings to this database and
other scenarios can share its interpreter. Every child gets its own process group, and
`Fleet.stop()` kills each group it started, also on error.

Child commands: `python -m bench.scenarios._agentauth seed SPEC.json OUT.json` and
`python -m bench.scenarios._agentauth produce` (approvals on demand, see `produce`).
"""

import asyncio
import contextlib
import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE = "agentauth_bench_ws"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/11"
ISSUER = "http://127.0.0.1"
HIGH_RATE = "1000000/min"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def environment(**extra):
    """Production settings (DEBUG off, PostgreSQL, Redis) minus what needs TLS on loopback."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "AGENTAUTH_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "agentauth.settings",
        "DEBUG": "False",
        "SECRET_KEY": "bench-only-" + "k" * 60,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "AGENTAUTH_ISSUER": ISSUER,
        # Plain http on loopback: no redirect to https (cookies are sent by hand, see cookie_header).
        "SECURE_SSL_REDIRECT": "False",
        # The limits guard against abuse; the benchmark measures the push path, not the buckets.
        "AGENTAUTH_RATE_AGENT": HIGH_RATE,
        "AGENTAUTH_RATE_PERSON": HIGH_RATE,
        "AGENTAUTH_RATE_TOKEN": HIGH_RATE,
        "AGENTAUTH_RATE_TOKEN_IP": HIGH_RATE,
        "AGENTAUTH_RATE_SOCKET": HIGH_RATE,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


@contextlib.contextmanager
def interruptible():
    """SIGINT and SIGTERM raise KeyboardInterrupt in the bench process, so `finally` blocks stop
    the servers and drop the database: also when a shell started us with SIGINT ignored (as it
    does for background jobs) or a supervisor sends SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)  # asyncio.run turns it into a cancel
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def raise_fd_limit():
    """Soft RLIMIT_NOFILE up to the hard limit; children inherit it. Returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the database and Redis db 11 -----------------------------------------------------------


def recreate_database():
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")


def drop_database():
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def flush_redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


def manage(*args, timeout=120):
    """A manage.py command in a child with the bench environment; raises with its output on failure."""
    return _child([sys.executable, "manage.py", *args], timeout, f"manage.py {' '.join(args)}")


def _child(argv, timeout, what):
    done = subprocess.run(  # noqa: S603 - our own commands and modules
        argv, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(f"{what} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return done.stdout


def seed(spec, timeout=120):
    """Run `seed_children` in a child process; returns what it wrote (persons, agents, cookies)."""
    with tempfile.TemporaryDirectory(prefix="bench-seed-") as scratch:
        spec_path, out_path = Path(scratch) / "spec.json", Path(scratch) / "out.json"
        spec_path.write_text(json.dumps(spec))
        _child(
            [sys.executable, "-m", "bench.scenarios._agentauth", "seed", str(spec_path), str(out_path)],
            timeout,
            "seeding",
        )
        return json.loads(out_path.read_text())


def empty_stack():
    """An empty database and an empty Redis db 11 (servers may start now: they import Django
    while `migrate` runs, and touch the database only when the first request comes)."""
    recreate_database()
    flush_redis()


def migrate():
    """Create the schema; returns the seconds it took."""
    started = time.monotonic()
    manage("migrate", "--noinput")
    return time.monotonic() - started


def cleanup():
    try:
        drop_database()
    finally:
        flush_redis()


# --- processes ------------------------------------------------------------------------------


class Fleet:
    """The processes one scenario starts. Use as a context manager: every group dies on exit."""

    def __init__(self):
        self.logs = Path(tempfile.mkdtemp(prefix="bench-agentauth-"))
        self.processes = {}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.stop()
        if exc_type is None and not os.environ.get("BENCH_KEEP_LOGS"):
            shutil.rmtree(self.logs, ignore_errors=True)
        else:
            print(f"bench: process logs kept in {self.logs}", file=sys.stderr)

    def spawn(self, name, argv, pipes=False, **env):
        """A child in its own process group; output goes to a log, or (pipes) stdin/stdout to us."""
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(  # noqa: S603 - our own servers
            argv,
            cwd=ROOT,
            env=environment(**env),
            stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipes else log,
            stderr=log,
            text=pipes,
            start_new_session=True,  # its own group: stop() reaches uvicorn's and Celery's children
            preexec_fn=_die_with_parent,
        )
        process.log = log
        self.processes[name] = process
        return process

    def uvicorn(self, name, port, **env):
        """One ASGI process as the Procfile runs it (without --workers, so the pid is the server)."""
        argv = [str(BIN / "uvicorn"), "agentauth.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        return self.spawn(name, [*argv, "--lifespan", "off", "--proxy-headers"], **env)

    def gunicorn(self, name, port, **env):
        """The Procfile's `web`: gunicorn with 2 sync workers."""
        argv = [str(BIN / "gunicorn"), "agentauth.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        return self.spawn(name, argv, **env)

    def celery_worker(self, name="worker"):
        argv = [str(BIN / "celery"), "-A", "agentauth", "worker", "--pool", "solo", "--loglevel", "WARNING"]
        argv += ["--without-gossip", "--without-mingle", "--hostname", f"bench-{os.getpid()}@%h"]
        return self.spawn(name, argv)

    def producer(self, name="producer"):
        """`produce` below, fed through its stdin: approvals created on demand, off the servers."""
        return self.spawn(name, [sys.executable, "-m", "bench.scenarios._agentauth", "produce"], pipes=True)

    def tail(self, name, size=2000):
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def check_alive(self, name):
        process = self.processes[name]
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")

    def stop(self, grace=2.0):
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
            _signal_group(process, signal.SIGKILL)  # stragglers left in the group
            for stream in (process.stdin, process.stdout, process.log):
                if stream is not None:
                    stream.close()
        self.processes.clear()


def _signal_group(process, signum):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _die_with_parent():
    """Runs in the child before exec: if the bench process is SIGKILLed (the suite's hard stop),
    the kernel kills this server too, so nothing outlives the scenario."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_healthy(fleet, name, base, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fleet.check_alive(name)
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer /healthz in {timeout} s:\n{fleet.tail(name)}")


def rss_bytes(pid):
    """Resident set size of one process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid):
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- what the client side needs ---------------------------------------------------------------


def cookie_header(person, cookies):
    """The person's session (and CSRF) cookies as a header: the __Host- cookies are Secure, so a
    cookie jar would never send them over plain http on loopback."""
    pairs = {cookies["session"]: person["session"], cookies["csrf"]: person["csrf"]}
    return "; ".join(f"{name}={value}" for name, value in pairs.items())


def percentile(values, pct):
    """Nearest-rank percentile (p99 of 50 samples is the largest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def summary_ms(values):
    return {
        "n": len(values),
        "p50": percentile(values, 50) * 1000,
        "p99": percentile(values, 99) * 1000,
        "mean": statistics.fmean(values) * 1000,
        "max": max(values) * 1000,
    }


class LoopLag:
    """How late a 5 ms sleep wakes up: evidence of whether the client loop kept up."""

    def __init__(self, interval=0.005):
        self.interval = interval
        self.lags = []
        self.task = None

    async def _run(self):
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.interval)
            self.lags.append(time.monotonic() - before - self.interval)

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self._run())
        return self

    def stop(self):
        self.task.cancel()
        return {"p99_ms": percentile(self.lags, 99) * 1000, "max_ms": max(self.lags) * 1000} if self.lags else {}


def row(scenario, metric, value, unit, target, met=None, baseline=None, baseline_value=None, ratio=None):
    return {
        "scenario": scenario,
        "metric": metric,
        "value": round(float(value), 3),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "ratio": None if ratio is None else round(float(ratio), 2),
        "target": target,
        "met": met,
    }


def budget_from_argv(default):
    """`python -m bench.scenarios.X [--budget SECONDS]`: the scenario alone, e.g. with more time."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=default, help=f"seconds (default {default:g})")
    return parser.parse_args().budget


def print_table(result):
    columns = ["scenario", "metric", "value", "unit", "baseline_value", "ratio", "target", "met"]
    cells = [[str(r[c]) if r[c] is not None else "-" for c in columns] for r in result["rows"]]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))
    for note in result["notes"]:
        print(f"- {note}")


# --- child-side commands (run with the bench environment, Django set up) ----------------------


def _django():
    import django

    django.setup()


def seed_children(spec):
    """Persons (one signed-in session each, fresh sign-in for high-risk approvals), optionally one
    agent per person with payments:execute and an access token. Bulk inserts: thousands of
    sessions in seconds."""
    _django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.middleware.csrf import _get_new_csrf_string
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    user_model = get_user_model()
    prefix = spec.get("prefix", "bench")
    unusable = make_password(None)
    users = user_model.objects.bulk_create(
        [
            user_model(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com", password=unusable)
            for n in range(spec["persons"])
        ]
    )
    store, now = SessionStore(), int(time.time())
    expires = timezone.now() + timedelta(days=1)
    persons, sessions = [], []
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
            "_auth_user_hash": user.get_session_auth_hash(),
            "auth_time": now,
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        persons.append({"id": user.pk, "session": key, "csrf": _get_new_csrf_string()})
    Session.objects.bulk_create(sessions)
    for person, user in zip(persons[: spec.get("agents", 0)], users, strict=False):
        person |= _agent_for(user, spec.get("tokens", False))
    cookies = {"session": settings.SESSION_COOKIE_NAME, "csrf": settings.CSRF_COOKIE_NAME}
    return {"persons": persons, "cookies": cookies}


def _agent_for(user, with_token):
    from agentauth.identity import tokens
    from agentauth.oauth.registration import register_agent

    agent, _ = register_agent(
        name=f"Bench agent {user.pk}",
        owner=user,
        grant_types=["client_credentials"],
        grant_scopes=["payments:execute", "payments:read"],
    )
    out = {"agent_id": agent.pk}
    if with_token:
        out["token"], _ = tokens.issue(
            user=user, agent=agent, scopes=["payments:execute", "payments:read"], grant_type="bench"
        )
    return out


def produce():
    """Approvals on demand through the product's own service (the path the payments API takes).

    Reads JSON lines {"person": id, "agent": id, "memo": str} on stdin and answers each with
    {"memo", "started", "committed", "hooks_done", "took"}: CLOCK_MONOTONIC (system-wide on Linux,
    so comparable with the bench process) before request_approval, right after its transaction
    commits (our first on_commit hook runs before the product's audit seal and push), once the
    product's after-commit hooks are done (our last hook), and the seconds the whole call took.

    Each call runs as in a web process: in a sync thread under a running event loop, so the
    push's async_to_sync reuses that loop's Redis connections. (Called from plain sync code, as in
    a Celery worker, every push builds a new loop and connection instead: see the report.)"""
    _django()
    from asgiref.sync import sync_to_async

    async def serve():
        loop = asyncio.get_running_loop()
        print(json.dumps({"ready": True}), flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            stamps = await sync_to_async(_create_approval)(json.loads(line))
            print(json.dumps(stamps), flush=True)

    asyncio.run(serve())


def _create_approval(ask):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from agentauth.identity.models import Agent
    from approvals import services
    from examples.payments import PAY

    user, agent = get_user_model().objects.get(pk=ask["person"]), Agent.objects.get(pk=ask["agent"])
    params = {"amount": "120.00", "currency": "EUR", "to": "Bench Shop", "memo": ask["memo"]}
    stamps = {"memo": ask["memo"], "started": time.monotonic()}
    with transaction.atomic():
        transaction.on_commit(lambda: stamps.update(committed=time.monotonic()))
        services.request_approval(
            user=user,
            agent=agent,
            action=PAY,
            params=params,
        )
        # Registered after the product's hooks, so it runs once they (seal, push, enqueue) are done.
        transaction.on_commit(lambda: stamps.update(hooks_done=time.monotonic()))
    stamps["took"] = time.monotonic() - stamps["started"]
    return stamps


def main(argv):
    command = argv[0]
    if command == "seed":
        out = seed_children(json.loads(Path(argv[1]).read_text()))
        Path(argv[2]).write_text(json.dumps(out))
    elif command == "produce":
        produce()
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
