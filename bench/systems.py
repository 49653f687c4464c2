"""The systems under test, each on its own fresh PostgreSQL database.

AgentAuth runs in its production shape (DEBUG off, PostgreSQL, Redis db 12) under gunicorn
(2 sync workers) or uvicorn (2 worker processes, as the Procfile). The baselines run from
bench/.venv-baselines under gunicorn with 2 sync workers, the way DOT is served best.
Every system gets the same clients: 32 people, each with one client-credentials agent.
"""

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

from .harness import paths, proc, services, wrk
from .harness.pool import ServerPool

CLIENTS = 32
DOCUMENTS_PER_PERSON = 10
DOCUMENT_BODY_LENGTH = 300
SCOPE = "documents:read"
HIGH_RATE = "1000000/min"  # the limiter stays on, but is never what is measured
ISSUER = "https://agentauth.bench.invalid"
# Every system sits behind the same pretend TLS proxy: the load generator sends this header.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}

# What serves AgentAuth's synchronous endpoints (/o/ and /api/) in the production shape. uvicorn
# keeps /ws/ and the approval long-polls; scenario 1 and 2 measure both servers in every run.
PRODUCTION_SERVER = "gunicorn"
# The Procfile's uvicorn flags, less its access log (gunicorn logs no requests either).
# Sync workers per gunicorn, the same for every system (BENCH_WORKERS: try another count for all).
WORKERS = os.getenv("BENCH_WORKERS", "2")
UVICORN_FLAGS = ("--workers", "2", "--lifespan", "off", "--proxy-headers", "--no-access-log")

AGENTAUTH_DB = "agentauth_bench"
DOT_DB = "bench_dot"
AUTHLIB_DB = "bench_authlib"
DOT_DIR = paths.BASELINES / "dot_stock"
AUTHLIB_DIR = paths.BASELINES / "authlib_django"


def _base_env():
    """Only what a process needs from ours: nothing of the caller's DATABASE_URL, DEBUG and the like."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    return {name: os.environ[name] for name in keep if name in os.environ} | {"PYTHONUNBUFFERED": "1"}


# Fixed, so that every AgentAuth process (servers, fixtures, in-process scripts) decrypts the same
# signing key and checks the same client-secret hashes. Only ever used on the bench database.
SECRET_KEY = "bench-only-agentauth-secret-key-" + "0123456789abcdef" * 3


def agentauth_env(**extra):
    """AgentAuth's production environment (clean under `check --deploy`), on loopback behind a 'proxy'."""
    return (
        _base_env()
        | {
            "DJANGO_SETTINGS_MODULE": "agentauth.settings",
            "DEBUG": "False",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "AGENTAUTH_ISSUER": ISSUER,
            "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "DATABASE_URL": services.database_url(AGENTAUTH_DB),
            "REDIS_URL": services.REDIS_URL,
            "EMAIL_HOST": "127.0.0.1",  # never reached by the measured endpoints
            "AGENTAUTH_REGISTRATION_TOKEN": "bench-only-registration-token",
            "AGENTAUTH_VAPID_PRIVATE_KEY": "bpXBTWz8RgDeME3XR76R9LZ1YjeK8Kz99-6Ykvswtd0",  # bench only
            "AGENTAUTH_RATE_AGENT": HIGH_RATE,
            "AGENTAUTH_RATE_PERSON": HIGH_RATE,
            "AGENTAUTH_RATE_TOKEN": HIGH_RATE,
            "AGENTAUTH_RATE_TOKEN_IP": HIGH_RATE,
            "LOG_LEVEL": "WARNING",
        }
        | extra
    )


@dataclass
class System:
    """One server configuration: how to start it and which clients it knows."""

    name: str
    label: str
    app: str
    env: dict
    cwd: Path = paths.REPO
    server: str = "gunicorn"  # or "uvicorn"
    credentials: list = field(default_factory=list)

    def argv(self, port):
        if self.server == "uvicorn":
            return [paths.PRODUCT_BIN / "uvicorn", self.app, "--host", "127.0.0.1", "--port", port, *UVICORN_FLAGS]
        binary = (paths.PRODUCT_BIN if self.cwd == paths.REPO else paths.BASELINE_BIN) / "gunicorn"
        return [binary, self.app, "--workers", WORKERS, "--bind", f"127.0.0.1:{port}", "--no-control-socket"]

    def start(self):
        """Start the server on a free port; the caller waits for it (proc.Server.wait_healthy)."""
        port = proc.free_port()
        return proc.Server(self.name, self.argv(port), env=self.env, port=port, cwd=self.cwd)

    def serve(self, timeout=60):
        """Context manager: the running proc.Server, stopped on exit."""
        port = proc.free_port()
        return proc.serving(self.name, self.argv(port), env=self.env, port=port, cwd=self.cwd, timeout=timeout)

    def token_requests(self, path="/o/token/"):
        return [token_request(path, credential) for credential in self.credentials]


def token_request(path, credential):
    """client_secret_basic (RFC 6749 §2.3.1: id and secret form-encoded, then Basic)."""
    pair = f"{quote(credential['client_id'], safe='')}:{quote(credential['client_secret'], safe='')}"
    headers = PROXY_HEADERS | {
        "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return wrk.Request("POST", path, headers, urlencode({"grant_type": "client_credentials", "scope": SCOPE}))


def api_requests(tokens, path="/api/v1/documents/"):
    return [wrk.Request("GET", path, PROXY_HEADERS | {"Authorization": f"Bearer {token}"}) for token in tokens]


# --- the systems -------------------------------------------------------------------------------


def agentauth(server="gunicorn", app=None, **extra_env):
    default_app = "agentauth.asgi:application" if server == "uvicorn" else "agentauth.wsgi:application"
    workers = "uvicorn, 2 workers" if server == "uvicorn" else f"gunicorn, {WORKERS} sync workers"
    return System(
        name=f"agentauth-{server}" + ("-" + "-".join(sorted(extra_env)).lower() if extra_env else ""),
        label=f"AgentAuth ({workers})",
        app=app or default_app,
        env=agentauth_env(**extra_env),
        server=server,
    )


def dot(fast_hasher=False):
    return System(
        name="dot-fast-hasher" if fast_hasher else "dot-stock",
        label=f"{'DOT, MD5 hasher' if fast_hasher else 'DOT stock, PBKDF2'} (gunicorn, {WORKERS} sync)",
        app="dotsite.wsgi:application",
        env=_base_env() | {"BENCH_DB_NAME": DOT_DB, "BENCH_FAST_HASHER": "1" if fast_hasher else "0"},
        cwd=DOT_DIR,
    )


def authlib():
    return System(
        name="authlib",
        label=f"Authlib Django (gunicorn, {WORKERS} sync)",
        app="authlibsite.wsgi:application",
        env=_base_env() | {"BENCH_DB_NAME": AUTHLIB_DB},
        cwd=AUTHLIB_DIR,
    )


# --- databases and clients -------------------------------------------------------------------


# What a migrated template depends on: the migrations and the pinned libraries.
AGENTAUTH_SCHEMA = ("*/migrations/*.py", "requirements.txt")
BASELINES_SCHEMA = ("bench/baselines/*/*/migrations/*.py", "bench/baselines/requirements.txt")
SIZES = ["--clients", CLIENTS, "--documents", DOCUMENTS_PER_PERSON, "--body-length", DOCUMENT_BODY_LENGTH]


def _manage(python, cwd, env, timeout):
    """manage.py in `cwd` with `python`: a function of its arguments."""
    return lambda *args: proc.run([python, "manage.py", *args], timeout=timeout, env=env, cwd=cwd)


def prepare_agentauth(timeout):
    """Fresh database and Redis db 12, then people, agents (through register_agent) and documents."""

    def migrate(database):
        env = agentauth_env(DATABASE_URL=services.database_url(database))
        _manage(paths.PRODUCT_PYTHON, paths.REPO, env, timeout)("migrate", "--noinput", "-v0")

    services.fresh_database(AGENTAUTH_DB, migrate=migrate, fingerprint=services.fingerprint(*AGENTAUTH_SCHEMA))
    services.flush_redis()
    out = proc.run(
        [paths.PRODUCT_PYTHON, "-m", "bench.inprocess.fixture", *SIZES], timeout=timeout, env=agentauth_env()
    )
    return json.loads(out)


def prepare_dot(timeout):
    """Fresh database; stock clients hashed with PBKDF2, fast clients hashed with the MD5 hasher."""
    python, stock, fast = paths.BASELINE_BIN / "python", dot(), dot(fast_hasher=True)

    def migrate(database):
        _manage(python, DOT_DIR, stock.env | {"BENCH_DB_NAME": database}, timeout)("migrate", "--noinput", "-v0")

    services.fresh_database(DOT_DB, migrate=migrate, fingerprint=services.fingerprint(*BASELINES_SCHEMA))
    seed_stock = _manage(python, DOT_DIR, stock.env, timeout)
    seed_fast = _manage(python, DOT_DIR, fast.env, timeout)
    return {
        "stock": json.loads(seed_stock("seed_bench", "--prefix", "stock", "--one-secret", *SIZES)),
        "fast": json.loads(seed_fast("seed_bench", "--prefix", "fast", *SIZES)),
    }


def prepare_authlib(timeout):
    python, env = paths.BASELINE_BIN / "python", authlib().env

    def migrate(database):
        _manage(python, AUTHLIB_DIR, env | {"BENCH_DB_NAME": database}, timeout)("migrate", "--noinput", "-v0")

    services.fresh_database(AUTHLIB_DB, migrate=migrate, fingerprint=services.fingerprint(*BASELINES_SCHEMA))
    return json.loads(_manage(python, AUTHLIB_DIR, env, timeout)("seed_bench", "--clients", CLIENTS))


def mint_tokens(base, requests, timeout=60):
    """One access token per client, from a running server's token endpoint."""
    tokens = []
    with httpx.Client(base_url=base, timeout=timeout) as client:
        for request in requests:
            response = client.post(request.path, headers=request.headers, content=request.body)
            if response.status_code != 200:
                raise proc.CommandFailed(f"token request answered {response.status_code}: {response.text[:300]}")
            tokens.append(response.json()["access_token"])
    return tokens


def check_answers(base, request, expect=200, timeout=60):
    """One request before the load: a system that refuses it is reported, not measured."""
    with httpx.Client(base_url=base, timeout=timeout) as client:
        response = client.request(request.method, request.path, headers=request.headers, content=request.body or None)
    if response.status_code != expect:
        answer = f"{response.status_code}: {response.text[:300]}"
        raise proc.CommandFailed(f"{request.method} {request.path} answered {answer}")
    return response


@dataclass
class Prepared:
    """The clients each database holds after preparation, and how long each load run lasts."""

    agentauth_clients: list
    dot_clients: dict  # "stock" (PBKDF2-hashed) and "fast" (MD5-hashed)
    authlib_clients: list
    warmup: int = 2
    seconds: int = 12  # per system and comparison, split into rounds
    servers: ServerPool = field(default_factory=ServerPool)

    def agentauth(self, server=None, app=None, **extra_env):
        system = agentauth(server or PRODUCTION_SERVER, app=app, **extra_env)
        system.credentials = self.agentauth_clients
        return system

    def dot(self, fast_hasher=False):
        system = dot(fast_hasher)
        system.credentials = self.dot_clients["fast" if fast_hasher else "stock"]
        return system

    def authlib(self):
        system = authlib()
        system.credentials = self.authlib_clients
        return system


def deploy_check(timeout):
    """`manage.py check --deploy` under the bench's AgentAuth environment: the shape is production's."""
    collect = [paths.PRODUCT_PYTHON, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
    argv = [paths.PRODUCT_PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    try:
        proc.run(collect, timeout=timeout, env=agentauth_env())  # as the image does: production serves the manifest
        return proc.run(argv, timeout=timeout, env=agentauth_env()).strip()
    except proc.CommandFailed as failure:
        return f"not clean: {str(failure).splitlines()[0]}"
