"""Scenario 2: a protected API call, GET /api/v1/documents/ with a bearer token, 32 clients at once.

AgentAuth verifies its JWT offline and checks the revocation list in Redis; DOT looks the opaque
token up in PostgreSQL on every request. Same DRF view shape, same documents, same clients. Beside
them, AgentAuth's own view with nothing checked (bench/inprocess/unguarded.py): the ratio's ceiling.
Then the authentication step alone, in process: microseconds per call and database queries.
"""

import dataclasses
import json

from .. import systems
from ..harness import paths, proc, report
from ..harness.budget import OutOfTime
from ..harness.measure import compare

SCENARIO = "2 protected API"
UNIT = "req/s"
AUTH_STEP_LIMIT_US = 150
CEILING = "the same view, nothing checked (bench/inprocess/unguarded.py, gunicorn, 2 sync workers)"


def with_tokens(system):
    """make_requests for compare(): mint one token per client from the running server first."""

    def make_requests(base):
        return systems.api_requests(systems.mint_tokens(base, system.token_requests()))

    return make_requests


def run(prepared, budget):
    production = prepared.agentauth()
    other = prepared.agentauth("uvicorn" if production.server == "gunicorn" else "gunicorn")
    # The secret hasher plays no part in API calls: DOT's clients are the fast variant's only so
    # that minting their 32 tokens does not take 32 PBKDF2 rounds.
    dot = dataclasses.replace(
        prepared.dot(fast_hasher=True), label=f"DOT, token looked up per call (gunicorn, {systems.WORKERS} sync)"
    )
    ceiling = dataclasses.replace(
        prepared.agentauth("gunicorn", app="bench.inprocess.unguarded:application", BENCH_CEILING="1"),
        label=CEILING,
    )
    entries = {"dot": dot, "agentauth": production, "agentauth-other": other, "ceiling": ceiling}
    loads, failures = compare(
        [(key, system, with_tokens(system)) for key, system in entries.items()], prepared, budget, "api"
    )
    notes = [f"API, {entries[key].label}: {loads[key].describe()}." for key in entries if key in loads]
    notes += [f"API, {entries[key].label}: not measured: {why}" for key, why in failures.items()]

    rows = []
    aa, dot = loads.get("agentauth"), loads.get("dot")
    if aa and dot:
        rows.append(
            report.ratio_row(
                SCENARIO,
                "documents list throughput vs DOT",
                aa.ok_per_second,
                UNIT,
                entries["dot"].label,
                dot.ok_per_second,
                at_least=1.5,
            )
        )
    else:
        rows.append(report.failed_row(SCENARIO, "documents list throughput vs DOT", "a system did not run"))
    if aa:
        rows.append(
            report.row(
                SCENARIO,
                "p99 latency, 32 clients",
                aa.p99_ms,
                "ms",
                "informative",
                baseline="DOT" if dot else None,
                baseline_value=dot.p99_ms if dot else None,
            )
        )
        rows.append(report.row(SCENARIO, "failed requests under load", aa.errors, "", "0", met=aa.errors == 0))
    if aa and "agentauth-other" in loads:
        rows.append(report.server_choice_row(SCENARIO, UNIT, loads, production, other))
    rows += ceiling_rows(aa, dot, loads.get("ceiling"), entries["dot"].label)
    micro_rows, micro_notes = auth_step(prepared, budget)
    return {"rows": rows + micro_rows, "notes": notes + micro_notes}


def ceiling_rows(aa, dot, ceiling, dot_label):
    """How far any authentication could take the ratio (the view with nothing checked against DOT),
    and what AgentAuth's checks cost under load (AgentAuth against that view)."""
    if not (aa and dot and ceiling):
        return []
    return [
        report.ratio_row(
            SCENARIO, "ceiling: the same view with nothing checked, vs DOT", ceiling.ok_per_second, UNIT,
            dot_label, dot.ok_per_second,
        ),
        report.ratio_row(
            SCENARIO, "documents list throughput vs that ceiling (what AgentAuth's checks cost)", aa.ok_per_second,
            UNIT, CEILING, ceiling.ok_per_second,
        ),
    ]  # fmt: skip


def auth_step(prepared, budget):
    """The in-process micro-benchmark (bench/inprocess/auth_step.py) on one freshly minted token."""
    system = prepared.agentauth()
    try:
        budget.allow(90, at_least=30)
        not_started = prepared.servers.ensure([system])
        if not_started:
            raise proc.CommandFailed(not_started[system.name])
        token = systems.mint_tokens(prepared.servers.get(system).base, system.token_requests()[:1])[0]
        argv = [paths.PRODUCT_PYTHON, "-m", "bench.inprocess.auth_step"]
        out = proc.run(argv, timeout=budget.allow(60, at_least=20), env=system.env, input_text=token)
    except (proc.CommandFailed, OutOfTime) as failure:
        why = str(failure).splitlines()[0]
        return [report.failed_row(SCENARIO, "authentication step, in process", why)], [f"Auth step: {failure}"]
    result = json.loads(out)
    whole, revocation, floor = result["authenticate"], result["revocation_check"], result["floor"]
    rows = [
        report.ratio_row(
            SCENARIO,
            "authentication step, in process (median)",
            whole["p50_us"],
            "µs",
            "ES256 verify + one Redis GET, bare",
            floor["p50_us"],
            target=f"≤ {AUTH_STEP_LIMIT_US} µs",
        ),
        report.ratio_row(
            SCENARIO,
            "authentication step with DPoP, in process (median)",
            result["dpop_authenticate"]["p50_us"],
            "µs",
            "the same step for a Bearer token",
            whole["p50_us"],
        ),
        report.row(
            SCENARIO,
            "database queries in the authentication step",
            result["queries"],
            "",
            "0",
            met=result["queries"] == 0,
        ),
    ]
    rows[0]["met"] = whole["p50_us"] <= AUTH_STEP_LIMIT_US
    scaled = whole["p50_us"] * result["reference_floor_us"] / floor["p50_us"]
    notes = [
        f"Auth step over {result['iterations']} calls: median {whole['p50_us']:.0f} µs (mean {whole['mean_us']:.0f}, "
        f"p99 {whole['p99_us']:.0f}); the revocation check alone median {revocation['p50_us']:.0f} µs. Its floor on "
        f"this machine, a bare ES256 verify ({floor['verify_p50_us']:.0f} µs) plus a bare Redis GET "
        f"({floor['redis_p50_us']:.0f} µs), is {floor['p50_us']:.0f} µs where the issue's machine has "
        f"{result['reference_floor_us']} µs: scaled to that machine the step would take about {scaled:.0f} µs."
    ]
    return rows, notes
