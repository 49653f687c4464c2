#!/usr/bin/env python
"""Profile AgentAuth's hot paths under load: `python bench/profile.py [--gil]`.

Serves AgentAuth in its production shape, samples its worker processes with py-spy (from the
baselines' venv) while wrk drives the token endpoint and then the documents API, and writes
bench/results/profiles/: the raw samples and summary.md (summary-gil.md with --gil): where the time
goes, by package and by function, and the SQL each request sends. bench/PROFILE.md is the
written-up reading of those summaries.
"""

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from bench import systems  # noqa: E402
from bench.harness import paths, proc, venvs, wrk  # noqa: E402

SECONDS = 12
OUT = paths.RESULTS / "profiles"
REQUEST_FRAME = "WSGIHandler.__call__"  # samples outside a request (accept loop, idle) are left out
PACKAGES = [  # (label, path prefixes of the leaf frame); first match wins
    ("PostgreSQL driver (psycopg, incl. waiting for the server)", ("psycopg/", "psycopg_pool/")),
    ("Django ORM (query building, model instances)", ("django/db/",)),
    ("JWT (PyJWT, jwcrypto, cryptography)", ("jwt/", "jwcrypto/", "cryptography/")),
    ("redis-py (incl. waiting for Redis)", ("redis/",)),
    ("oauthlib + DOT", ("oauthlib/", "oauth2_provider/")),
    ("DRF", ("rest_framework/",)),
    ("AgentAuth's own code", ("agentauth/", "examples/", "approvals/", "portal/", "live/")),
    ("Django, other (request, middleware, signals)", ("django/",)),
    ("gunicorn", ("gunicorn/",)),
]


def record(server, name, requests, gil_only):
    """py-spy on the server's workers while wrk loads it; returns the path of the raw samples."""
    raw = OUT / f"{name}.txt"
    argv = [paths.BASELINE_BIN / "py-spy", "record", "--pid", str(server.pgid), "--subprocesses", "--rate", "200"]
    argv += ["--gil"] if gil_only else []
    argv += ["--duration", str(SECONDS - 2), "--format", "raw", "--output", raw, "--nonblocking"]
    # our own profiler on our own server's process group
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    load = wrk.run(f"profile-{name}", server.base, requests, seconds=SECONDS, timeout_s=30)
    _, errors = spy.communicate(timeout=30)
    if spy.returncode:
        raise proc.CommandFailed(f"py-spy failed: {errors.decode()[-500:]}")
    return raw, load


def summarise(raw, top=22):
    """Markdown: self time by package, then inclusive time of the heaviest functions, in request samples."""
    by_package, inclusive, total = Counter(), Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any(REQUEST_FRAME in frame for frame in frames):
            continue
        count, total = int(count), total + int(count)
        by_package[_package(frames[-1])] += count
        for function in {frame.split(":")[0] + ")" for frame in frames if not frame.startswith("process ")}:
            inclusive[function] += count
    if not total:
        return "No samples inside requests.\n"
    lines = ["Self time by package (share of samples inside a request):", ""]
    lines += [f"- {share(count, total)} {label}" for label, count in by_package.most_common()]
    lines += ["", "Heaviest functions, inclusive (outer frames shared by every request left out):", ""]
    heavy = [(function, count) for function, count in inclusive.most_common() if count < 0.97 * total]
    lines += [f"- {share(count, total)} `{function}`" for function, count in heavy[:top]]
    return "\n".join(lines) + "\n"


def share(count, total):
    return f"{100 * count / total:4.1f}%"


def _package(frame):
    location = frame.rsplit("(", 1)[-1]
    for label, prefixes in PACKAGES:
        if location.startswith(prefixes):
            return label
    return "other (stdlib, json, ...)"


def sql_per_request(system, credential):
    argv = [paths.PRODUCT_PYTHON, "-m", "bench.inprocess.queries"]
    return json.loads(proc.run(argv, timeout=60, env=system.env, input_text=json.dumps(credential)))


def revision():
    commit = proc.run(["git", "rev-parse", "--short", "HEAD"], timeout=10).strip()
    if proc.run(["git", "status", "--porcelain", "--untracked-files=no"], timeout=10).strip():
        commit += " (plus uncommitted changes)"
    return commit


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gil", action="store_true", help="only samples holding the GIL: Python CPU, no waiting")
    gil_only = parser.parse_args().gil
    wrk.ensure_installed(timeout=120)
    venvs.ensure_baseline_venv(timeout=300)
    OUT.mkdir(parents=True, exist_ok=True)
    clients = systems.prepare_agentauth(timeout=180)
    system = systems.Prepared(clients, {}, []).agentauth()
    queries = sql_per_request(system, clients[0])
    kind = "samples holding the GIL (CPU in Python)" if gil_only else "wall-clock samples (waits included)"
    sections = [f"# AgentAuth at {revision()} under wrk: {system.label}, {wrk.CONNECTIONS} clients, {kind}\n"]
    suffix = "-gil" if gil_only else ""
    with system.serve() as server:
        wrk.warm_up("profile", server.base, system.token_requests(), seconds=2)
        tokens = systems.mint_tokens(server.base, system.token_requests())
        paths_under_test = [
            ("token", "POST /o/token/ (client credentials)", system.token_requests()),
            ("api", "GET /api/v1/documents/", systems.api_requests(tokens)),
        ]
        for name, title, requests in paths_under_test:
            raw, load = record(server, name + suffix, requests, gil_only)
            sql = queries[name]
            sections += [
                f"## {title}\n",
                f"{load.describe()} (sampled, so slower than unprofiled).\n",
                summarise(raw),
                f"SQL statements per request: {len(sql)}\n",
                "\n".join(f"{number}. `{statement}`" for number, statement in enumerate(sql, 1)) + "\n",
            ]
    summary = "\n".join(sections)
    (OUT / f"summary{suffix}.md").write_text(summary)
    print(summary)


if __name__ == "__main__":
    main()
