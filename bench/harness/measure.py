"""Side-by-side measurement: the systems of one comparison are loaded in alternating rounds.

Other work on a shared machine comes and goes within seconds; loading system A for 12 s and then
B for 12 s lets it favour one of them. All servers of a comparison run at once (prepared.servers),
each gets a short wrk run in turn, round after round, and its rounds are merged into one result.
"""

import dataclasses
import time

from .. import systems
from . import proc, wrk
from .budget import OutOfTime

REQUEST_TIMEOUT_SECONDS = 30  # wrk's per-request timeout: stock DOT queues for seconds at 32 clients
ROUNDS = 3
IDLE_WAIT_SECONDS = 5


def compare(entries, prepared, budget, label, rounds=ROUNDS):
    """`entries`: (key, system, make_requests) where make_requests(base_url) returns the wrk requests
    (it may first fetch tokens from the server). Returns ({key: merged Load}, {key: why not measured})."""
    per_round = max(1, round(prepared.seconds / rounds))
    budget.allow(len(entries) * (prepared.warmup + prepared.seconds) + 30, at_least=prepared.seconds + 30)
    not_started = prepared.servers.ensure([system for _, system, _ in entries])
    failures = {key: not_started[system.name] for key, system, _ in entries if system.name in not_started}
    ready = []
    for key, system, make_requests in entries:
        if key in failures:
            continue
        try:
            server = prepared.servers.get(system)
            requests = make_requests(server.base)
            systems.check_answers(server.base, requests[0])
            name = f"{system.name}-{label}"
            wrk.warm_up(name, server.base, requests, seconds=prepared.warmup, timeout_s=REQUEST_TIMEOUT_SECONDS)
            _wait_idle(server)
            ready.append((key, name, server, requests))
        except proc.CommandFailed as failure:
            failures[key] = _first_line(failure)
    parts = {key: [] for key, *_ in ready}
    for round_number in range(rounds):
        for key, name, server, requests in ready:
            if key in failures:
                continue
            try:
                budget.allow(per_round + 20, at_least=per_round + 10)
                parts[key].append(_round(f"{name}.{round_number}", server, requests, per_round))
            except (proc.CommandFailed, OutOfTime) as failure:
                failures[key] = _first_line(failure)
    return {key: wrk.Load.merged(runs) for key, runs in parts.items() if runs and key not in failures}, failures


def _round(name, server, requests, seconds):
    cpu_before = server.cpu_seconds()
    load = wrk.run(name, server.base, requests, seconds=seconds, timeout_s=REQUEST_TIMEOUT_SECONDS)
    cpu = server.cpu_seconds() - cpu_before
    _wait_idle(server)  # requests still queued when wrk stopped must not run into the next round
    return dataclasses.replace(load, server_cpu_seconds=cpu)


def _wait_idle(server, timeout=IDLE_WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = server.cpu_seconds()
        if now - before < 0.01:
            return
        before = now


def _first_line(failure):
    return str(failure).strip().splitlines()[0] if str(failure).strip() else type(failure).__name__
