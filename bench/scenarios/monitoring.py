"""Scenario 5: what monitoring and audit cost on the API path.

The documents list under load, served the production way, with monitoring on and off, side by
side. Off is `AGENTAUTH_MONITORING=False`; while the product has no such switch, the server runs
bench/inprocess/unmonitored.py, which disconnects monitoring from the API's api_called signal.
"""

from ..harness import paths, report
from ..harness.measure import compare
from .api import UNIT, with_tokens

SCENARIO = "5 monitoring overhead"
MARKER = "bench-monitoring-off:"  # what bench/inprocess/unmonitored.py prints
MAX_COST = 0.10


def run(prepared, budget):
    on = prepared.agentauth()
    app = "bench.inprocess.unmonitored:" + ("asgi_application" if on.server == "uvicorn" else "application")
    off = prepared.agentauth(app=app, AGENTAUTH_MONITORING="False")
    entries = {"on": on, "off": off}
    loads, failures = compare(
        [(key, system, with_tokens(system)) for key, system in entries.items()], prepared, budget, "monitoring"
    )
    notes = [f"API with monitoring {key}: {loads[key].describe()}." for key in entries if key in loads]
    notes += [f"Monitoring off: {how}." for how in _how_switched_off(off)]
    notes += [f"API with monitoring {key}: not measured: {why}" for key, why in failures.items()]
    if len(loads) < 2:
        return {"rows": [report.failed_row(SCENARIO, "API throughput, on vs off", "a run failed")], "notes": notes}
    row = report.ratio_row(
        SCENARIO,
        "API throughput, monitoring + audit on vs off",
        loads["on"].ok_per_second,
        UNIT,
        "monitoring off",
        loads["off"].ok_per_second,
        at_least=1 - MAX_COST,
        target=f"≥ {1 - MAX_COST:g}× (≤ {MAX_COST:.0%} cost)",
    )
    return {"rows": [row], "notes": notes}


def _how_switched_off(system):
    """What the 'off' server said it did (bench/inprocess/unmonitored.py prints it at start)."""
    log = paths.LOGS / f"{system.name}.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return sorted({line.split(MARKER, 1)[1].strip() for line in lines if MARKER in line})
