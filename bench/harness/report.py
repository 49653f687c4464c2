"""Result rows, the machine they were measured on, and the two files a run leaves: latest.json and latest.md."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from . import paths

README = paths.REPO / "README.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def row(scenario, metric, value, unit, target, *, met=None, baseline=None, baseline_value=None, ratio=None):
    """One line of the table, in the shape every scenario module returns."""
    return {
        "scenario": scenario,
        "metric": metric,
        "value": None if value is None else round(float(value), 3),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": None if baseline_value is None else round(float(baseline_value), 3),
        "ratio": None if ratio is None else round(float(ratio), 3),
        "target": target,
        "met": met,
    }


def ratio_row(scenario, metric, value, unit, baseline, baseline_value, *, at_least=None, target=None):
    """AgentAuth against a baseline measured in the same run; met when value/baseline ≥ at_least."""
    ratio = value / baseline_value if baseline_value else None
    met = None if at_least is None or ratio is None else ratio >= at_least
    if target is None:
        target = f"≥ {at_least:g}×" if at_least is not None else "informative"
    return row(
        scenario, metric, value, unit, target, met=met, baseline=baseline, baseline_value=baseline_value, ratio=ratio
    )


def server_choice_row(scenario, unit, loads, production, other):
    """The same AgentAuth under the other server, as a ratio of the production shape's throughput."""
    return ratio_row(
        scenario,
        f"{other.server} vs {production.server} (server choice)",
        loads["agentauth-other"].ok_per_second,
        unit,
        production.label,
        loads["agentauth"].ok_per_second,
    )


def limit_row(scenario, metric, value, unit, *, at_most):
    return row(scenario, metric, value, unit, f"≤ {at_most:g} {unit}", met=value <= at_most)


def failed_row(scenario, metric, why):
    """A measurement that could not be taken: shown as ✗ with the reason in the notes."""
    return row(scenario, metric, None, "", f"not measured: {why}"[:120], met=False)


def machine():
    cpuinfo, meminfo = _read("/proc/cpuinfo").splitlines(), _read("/proc/meminfo").splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    mem_kb = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _number(value, unit):
    if value is None:
        return "—"
    if float(value).is_integer() or abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def markdown(result):
    info = result["machine"]
    lines = [
        f"Measured {info['date']} on {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, "
        f"Python {info['python']} (load average at start {', '.join(map(str, info['load_average_at_start']))}; "
        f"suite took {result['seconds']:.0f} s).",
        "",
        "| Scenario | Metric | AgentAuth | Baseline | Ratio | Target | Met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        baseline = f"{r['baseline']}: {_number(r['baseline_value'], r['unit'])}" if r["baseline"] else "—"
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else "—"
        met = {True: "✓", False: "✗", None: "—"}[r["met"]]
        lines.append(
            f"| {r['scenario']} | {r['metric']} | {_number(r['value'], r['unit'])} | {baseline} | {ratio} "
            f"| {r['target']} | {met} |"
        )
    if result["notes"]:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in result["notes"]]
    return "\n".join(lines) + "\n"


def write(result, name="latest"):
    """<name>.json and <name>.md (written whole, then renamed); the README's table too for "latest"
    when the README has the markers."""
    paths.RESULTS.mkdir(parents=True, exist_ok=True)
    table = markdown(result)
    for path, text in (
        (paths.RESULTS / f"{name}.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n"),
        (paths.RESULTS / f"{name}.md", table),
    ):
        scratch = path.with_name(path.name + ".tmp")
        scratch.write_text(text)
        scratch.replace(path)
    if name == "latest":
        # The README gets the table; the notes (how each figure was measured) stay in latest.md.
        _update_readme(markdown({**result, "notes": []}) + "\nNotes on every figure: `bench/results/latest.md`.\n")
    return table


def _update_readme(table):
    text = README.read_text() if README.exists() else ""
    if README_START in text and README_END in text:
        head, rest = text.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        README.write_text(f"{head}{README_START}\n{table}{README_END}{tail}")
