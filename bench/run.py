#!/usr/bin/env python
"""`make bench`: AgentAuth against stock libraries, side by side, on the production shape.

Prepares PostgreSQL databases, Redis db 12, the baselines' virtualenv and wrk; runs scenarios 1
(token endpoint), 2 (protected API) and 5 (monitoring overhead) here and scenarios 3 (approvals)
and 4 (sockets) in child processes; writes bench/results/latest.json and latest.md. The whole
suite is bounded by SUITE_SECONDS. A partial run (--only, --seconds) writes partial.json and
partial.md instead. Exit 0 when it measured (missed targets show as ✗ in the
table), 1 when it could not measure at all, 2 when a service it needs is missing.
"""

import argparse
import importlib.util
import json
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: `python bench/run.py`

from bench import systems  # noqa: E402
from bench.harness import paths, proc, report, services, venvs, wrk  # noqa: E402
from bench.harness.budget import Budget  # noqa: E402
from bench.scenarios import api, monitoring, tokens  # noqa: E402

SUITE_SECONDS = 570  # 9.5 minutes: the issue allows 10
SETUP_SECONDS = 240
DEFAULT_SECONDS = 12  # per system and comparison: three rounds of 4 s
OWN_SCENARIOS = {"tokens": tokens, "api": api, "monitoring": monitoring}
# bench/scenarios/<name>.py with run(budget_seconds), and the scenario's name in the table
CHILD_SCENARIOS = {"approvals": "3 approval round trip", "sockets": "4 sockets per ASGI process"}
CHILD_SCENARIO_MAX_SECONDS = 180
CHILD_SCENARIO_MIN_SECONDS = 30
STOP_SECONDS = 25  # of a child's share: SIGINT, 15 s for its finally blocks, SIGKILL
RESERVE_SECONDS = 15  # for writing the results after the last scenario


def log(message):
    print(f"bench: {message}", flush=True)


def prepare(budget):
    """wrk, the baselines' venv, then the three databases and the deploy check, in parallel.

    Returns the systems' clients and a note on AgentAuth's environment."""
    timeout = budget.allow(SETUP_SECONDS, at_least=60)
    log(f"wrk: {wrk.ensure_installed(timeout=120)}")
    log(f"baselines venv: {venvs.ensure_baseline_venv(timeout=timeout)}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        steps = [systems.prepare_agentauth, systems.prepare_dot, systems.prepare_authlib, systems.deploy_check]
        futures = [pool.submit(step, budget.allow(180)) for step in steps]
        *clients, deploy = [future.result() for future in futures]
    return clients, f"AgentAuth's bench environment under `manage.py check --deploy --fail-level WARNING`: {deploy}"


def run_own_scenario(module, prepared, budget):
    log(f"scenario {module.SCENARIO}")
    try:
        return module.run(prepared, budget)
    except Exception as error:  # noqa: BLE001 - one broken scenario must not lose the others
        log(f"scenario {module.SCENARIO} failed: {error!r}")
        return {
            "rows": [report.failed_row(module.SCENARIO, "the scenario", "stopped with an error")],
            "notes": [f"Scenario {module.SCENARIO} stopped: {error!r}"],
        }


def run_child_scenario(name, budget_seconds, timeout):
    """A scenario module in a child process, stopped (SIGINT, then SIGKILL) if it overruns.

    Its output goes to results/logs/<name>.log; a failure is summed up by its last line."""
    paths.LOGS.mkdir(parents=True, exist_ok=True)
    log_path = paths.LOGS / f"{name}.log"
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        out = Path(scratch) / "result.json"
        try:
            output = proc.run(
                [paths.PRODUCT_PYTHON, "-m", "bench.harness.child", name, f"{budget_seconds:.0f}", out],
                timeout=timeout,
                interrupt_grace=15,
            )
        except proc.CommandFailed as failure:
            log_path.write_text(str(failure))
            last = [line for line in str(failure).splitlines() if line.strip()][-1]
            raise proc.CommandFailed(f"{last.strip()[:200]} (see {log_path.relative_to(paths.REPO)})") from None
        log_path.write_text(output)
        return json.loads(out.read_text())


def own_scenarios(selected, prepared, budget):
    """Scenarios 1, 2 and 5 in this process, sharing the pool of running servers."""
    rows, notes = [], []
    try:
        for name, module in OWN_SCENARIOS.items():
            if name in selected:
                outcome = run_own_scenario(module, prepared, budget)
                rows, notes = rows + outcome["rows"], notes + outcome["notes"]
    finally:
        prepared.servers.close()  # the child scenarios get the machine to themselves
    return rows, notes


def child_scenarios(selected, budget):
    """Each present child scenario gets a share of what is left (decided when it starts), capped;
    its own budget leaves STOP_SECONDS of that share for stopping it if it overruns."""
    rows, notes = [], []
    present = [name for name in CHILD_SCENARIOS if name in selected and _exists(name)]
    notes += [
        f"bench/scenarios/{name}.py is missing: not run."
        for name in selected & set(CHILD_SCENARIOS)
        if name not in present
    ]
    for index, name in enumerate(present):
        share = min(CHILD_SCENARIO_MAX_SECONDS, (budget.remaining() - RESERVE_SECONDS) / (len(present) - index))
        title = CHILD_SCENARIOS[name]
        if share - STOP_SECONDS < CHILD_SCENARIO_MIN_SECONDS:
            rows.append(report.failed_row(title, "the scenario", "no time left in the suite's budget"))
            continue
        log(f"scenario {title} ({share - STOP_SECONDS:.0f} s budget)")
        try:
            outcome = run_child_scenario(name, share - STOP_SECONDS, timeout=share)
        except (proc.CommandFailed, ValueError, OSError) as failure:
            rows.append(report.failed_row(title, "the scenario", "stopped with an error"))
            notes.append(f"Scenario {title} stopped: {failure}")
            continue
        rows, notes = rows + outcome["rows"], notes + outcome["notes"]
    return rows, notes


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds", type=int, default=DEFAULT_SECONDS, help="measured seconds per system and comparison"
    )
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per system")
    parser.add_argument("--only", default="", help="comma-separated: tokens,api,monitoring,approvals,sockets")
    options = parser.parse_args()
    options.selected = set(filter(None, options.only.split(","))) or set(OWN_SCENARIOS) | set(CHILD_SCENARIOS)
    return options


def main():
    options = parse_arguments()
    # SIGTERM (a CI timeout, say) unwinds like Ctrl-C, so every server started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    budget = Budget(SUITE_SECONDS)
    machine = report.machine()
    missing = services.problems()
    for problem in missing:
        log(problem)
    if missing:
        return 2
    try:
        clients, deploy_note = prepare(budget)
    except Exception as failure:  # noqa: BLE001 - nothing can be measured: say why and exit 1
        log(f"could not prepare the systems: {failure!r}")
        return 1
    prepared = systems.Prepared(*clients, warmup=options.warmup, seconds=options.seconds)
    log(f"prepared in {time.monotonic() - started:.0f} s; {budget.remaining():.0f} s left")
    try:
        own_rows, own_notes = own_scenarios(options.selected, prepared, budget)
        child_rows, child_notes = child_scenarios(options.selected, budget)
    finally:
        services.flush_redis()
    result = {
        "machine": machine,
        "seconds": time.monotonic() - started,
        "rows": own_rows + child_rows,
        "notes": own_notes + child_notes + production_shape_notes() + [deploy_note],
    }
    # Only a whole run with the default timings replaces the published table.
    complete = options.selected == set(OWN_SCENARIOS) | set(CHILD_SCENARIOS) and options.seconds == DEFAULT_SECONDS
    name = "latest" if complete else "partial"
    print("\n" + report.write(result, name))
    log(f"done in {result['seconds']:.0f} s: {paths.RESULTS / name}.md")
    return 0 if any(row["value"] is not None for row in result["rows"]) else 1


def _exists(name):
    return importlib.util.find_spec(f"bench.scenarios.{name}") is not None


def production_shape_notes():
    return [
        f"Production shape: DEBUG=False, PostgreSQL, Redis db {services.REDIS_DB}; AgentAuth's /o/ and /api/ served by "
        f"{systems.PRODUCTION_SERVER} (2 workers), the baselines by gunicorn with 2 sync workers; wrk "
        f"({wrk.THREADS} threads, {wrk.CONNECTIONS} connections, each request from the next of 32 clients) on "
        "loopback, systems taking turns in rounds; rate limits raised so the limiter is not what is measured.",
        "DOT 'fast hasher' = Django's built-in MD5PasswordHasher first in PASSWORD_HASHERS (a hash of the secret in "
        "microseconds, like AgentAuth's keyed HMAC-SHA256). Authlib compares the client secret in plain text, as its "
        "Django guide does.",
    ]


if __name__ == "__main__":
    sys.exit(main())
