"""Scenario 1: the token endpoint, client credentials, 32 clients at once.

AgentAuth (production shape) against stock DOT (PBKDF2-hashed secrets, opaque tokens), DOT with
Django's MD5 hasher first, and Authlib's Django integration; the baselines under gunicorn with
2 sync workers. AgentAuth is measured under both gunicorn and uvicorn (the server choice).
"""

import json

from ..harness import paths, proc, report
from ..harness.budget import OutOfTime
from ..harness.measure import compare

SCENARIO = "1 token endpoint"
UNIT = "tokens/s"
P99_LIMIT_MS = 60
TARGETS = {"dot-stock": 100, "dot-fast": 1.5, "authlib": 1.2}  # at least this many times the baseline


def run(prepared, budget):
    production = prepared.agentauth()
    other = prepared.agentauth("uvicorn" if production.server == "gunicorn" else "gunicorn")
    entries = {
        "dot-stock": prepared.dot(),
        "dot-fast": prepared.dot(fast_hasher=True),
        "authlib": prepared.authlib(),
        "agentauth": production,
        "agentauth-other": other,
    }

    def entry(key):
        system = entries[key]
        return key, system, lambda base: system.token_requests()

    # Stock DOT alone and in one run: its queue of 1.5M-round PBKDF2 checks would keep the CPU busy
    # long after each round and tax whichever system came next.
    loads, failures = compare([entry("dot-stock")], prepared, budget, "token", rounds=1)
    prepared.servers.stop(entries["dot-stock"])  # drops that queue
    more_loads, more_failures = compare(
        [entry(key) for key in entries if key != "dot-stock"], prepared, budget, "token"
    )
    loads, failures = loads | more_loads, failures | more_failures
    notes = [f"Tokens, {entries[key].label}: {loads[key].describe()}." for key in entries if key in loads]
    notes += [f"Tokens, {entries[key].label}: not measured: {why}" for key, why in failures.items()]

    aa = loads.get("agentauth")
    if aa is None:
        return {"rows": [report.failed_row(SCENARIO, "throughput", "AgentAuth did not run")], "notes": notes}
    rows = []
    for key, at_least in TARGETS.items():
        name = entries[key].label.split(" (")[0]
        if key in loads:
            rows.append(
                report.ratio_row(
                    SCENARIO,
                    f"throughput vs {name}",
                    aa.ok_per_second,
                    UNIT,
                    entries[key].label,
                    loads[key].ok_per_second,
                    at_least=at_least,
                )
            )
        else:
            rows.append(report.failed_row(SCENARIO, f"throughput vs {name}", "baseline did not run"))
    rows.append(report.limit_row(SCENARIO, "p99 latency, 32 clients", aa.p99_ms, "ms", at_most=P99_LIMIT_MS))
    rows.append(report.row(SCENARIO, "failed requests under load", aa.errors, "", "0", met=aa.errors == 0))
    if "agentauth-other" in loads:
        rows.append(report.server_choice_row(SCENARIO, UNIT, loads, production, other))
    rule_rows, rule_notes = rule_costs(production, loads.get("authlib"), budget)
    return {"rows": rows + rule_rows, "notes": notes + rule_notes}


RULES = {  # bench/inprocess/token_rules.py's parts, and what each is for
    "agent": "the agent, its owner and registered scopes, as the process remembers them (client authentication)",
    "grant": "the person's standing grant (read as it stands)",
    "write": "the token's row and audit record, one statement, written only while the grant is unchanged",
    "sign": "the ES256 signature",
    "rate_limit": "the rate limiter and the agents' version (two buckets, one Lua call)",
}
HANDLING = "Django's request handling (the same middleware around a view that answers a constant, GET /healthz)"


def rule_costs(system, authlib, budget):
    """Where a token's CPU goes, rule by rule, in process (bench/inprocess/token_rules.py)."""
    try:
        argv = [paths.PRODUCT_PYTHON, "-m", "bench.inprocess.token_rules"]
        costs = json.loads(proc.run(argv, timeout=budget.allow(60, at_least=20), env=system.env))
    except (proc.CommandFailed, OutOfTime, ValueError) as failure:
        return [], [f"Token rules: not measured: {str(failure).splitlines()[0]}"]
    rest = costs["whole"] - costs["handling"] - sum(costs[name] for name in RULES)
    rows = [report.row(SCENARIO, "server CPU per token, in process", costs["whole"], "ms", "informative")]
    rows += [report.row(SCENARIO, f"of which {what}", costs[name], "ms", "informative") for name, what in RULES.items()]
    rows.append(report.row(SCENARIO, f"of which {HANDLING}", costs["handling"], "ms", "informative"))
    rows.append(report.row(SCENARIO, "of which oauthlib, DOT and the endpoint's own checks", rest, "ms", "informative"))
    rows.append(
        report.row(
            SCENARIO,
            "reloading the agent from the database (after a change; else once a second per process)",
            costs["agent_reload"],
            "ms",
            "informative",
        )
    )
    notes = [
        "Token rules: CPU per call in process, the median of 5 rounds of 100 after 30 warm-up calls, each piece "
        "timed alone with the functions the endpoint runs, the pieces taking turns in each round "
        "(bench/inprocess/token_rules.py)."
    ]
    if authlib is not None and authlib.cpu_ms_per_request:
        notes.append(
            f"Authlib's whole request costs {authlib.cpu_ms_per_request:.1f} ms of server CPU under load, so "
            f"{TARGETS['authlib']}× its rate leaves about {authlib.cpu_ms_per_request / TARGETS['authlib']:.1f} ms per "
            f"token. In process, AgentAuth's rules cost {sum(costs[name] for name in RULES):.2f} ms (the database "
            f"work alone, agent, grant, token row and audit record, "
            f"{sum(costs[name] for name in ('agent', 'grant', 'write')):.2f} ms), Django's handling of any request "
            f"{costs['handling']:.2f} ms, and oauthlib with DOT {rest:.2f} ms."
        )
    return rows, notes
