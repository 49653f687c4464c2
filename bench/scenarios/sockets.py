"""Scenario 4: authenticated sockets held open by one ASGI process while approvals are pushed.

One uvicorn process (the Procfile's server, without --workers so its pid is the server), the
Redis channel layer, PostgreSQL. Persons are bulk-created with one signed-in session each; every
person opens TABS sockets on /ws/approvals/ with that session cookie and an allowed Origin, from
one asyncio client. Then a separate producer process creates approvals through the product's
own service (`approvals.services.request_approval`, the payments API's path) for single persons,
one at a time, and we time its commit (and, for context, the service call's start) →
`approval.created` read on each of that person's sockets.

Target: at least 5,000 sockets with push p99 ≤ 50 ms; memory per socket = server VmRSS growth
while the sockets opened, divided by their number.
"""

import asyncio
import json
import os
import threading
import time
from collections import Counter

from websockets.asyncio.client import connect

from . import _agentauth as aa

SCENARIO = "4 sockets per ASGI process"
TARGET_SOCKETS = 5000
TABS = 2  # sockets per person: two tabs of one browser share its session
PERSONS = TARGET_SOCKETS // TABS
PUSHES = 200  # to 200 different persons, one approval each
PUSH_GAP = 0.02  # seconds between one approval being created and the next being asked for
PUSH_SECONDS = 8  # at most this long pushing
CONNECT_CONCURRENCY = 100  # handshakes in flight at once
TARGET_MS = 50.0
TAIL_SECONDS = PUSH_SECONDS + 7  # memory reading, pushes, their stragglers


class Tab:
    """One open socket; remembers when each approval.created (by binding message) arrived."""

    def __init__(self, person):
        self.person = person
        self.created = {}
        self.socket = None
        self.reader = None

    async def open(self, url, cookie, origin):
        self.socket = await connect(
            url,
            additional_headers={"Cookie": cookie},
            origin=origin,
            open_timeout=60,
            ping_interval=None,  # the server pings every 20 s; 5,000 client pings would be our own load
        )
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        async for raw in self.socket:
            message = json.loads(raw)
            if message.get("type") == "approval.created":
                self.created.setdefault(message["approval"]["binding_message"], time.monotonic())

    def drop(self):
        # No closing handshakes for 5,000 sockets: the server is killed right after anyway.
        self.reader.cancel()
        self.socket.transport.abort()


async def open_all(data, base, deadline):
    """Open TABS sockets per person, CONNECT_CONCURRENCY at a time, until done or out of time."""
    url, gate, errors = (
        base.replace("http", "ws", 1) + "/ws/approvals/",
        asyncio.Semaphore(CONNECT_CONCURRENCY),
        Counter(),
    )
    tabs = [Tab(person) for person in data["persons"] for _ in range(TABS)]

    async def one(tab):
        async with gate:
            if time.monotonic() > deadline:
                errors["not tried: out of time"] += 1
                return
            try:
                await tab.open(url, aa.cookie_header(tab.person, data["cookies"]), base)
            except Exception as error:  # noqa: BLE001 - counted and reported, the run goes on
                errors[type(error).__name__ + ": " + str(error)[:80]] += 1

    await asyncio.gather(*(one(tab) for tab in tabs))
    return [tab for tab in tabs if tab.socket is not None], errors


class Producer:
    """The producer child: a line in per approval, a line out with its timestamps."""

    def __init__(self, process, agent_id):
        self.process, self.agent_id = process, agent_id
        self.answers = {}  # memo -> {"started", "committed", "took"}
        ready = json.loads(process.stdout.readline() or "{}")
        if not ready.get("ready"):
            raise RuntimeError("the approval producer did not start")
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for line in self.process.stdout:
            answer = json.loads(line)
            self.answers[answer["memo"]] = answer

    async def create(self, person, memo, timeout=10.0):
        """Ask for one approval and wait until the producer has made it (one at a time)."""
        line = json.dumps({"person": person["id"], "agent": self.agent_id, "memo": memo})
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while memo not in self.answers and time.monotonic() < deadline:
            await asyncio.sleep(0.002)


async def push_all(producer, tabs, deadline):
    """One approval each for up to PUSHES different persons, PUSH_GAP apart, until the deadline.
    Returns ({"commit"|"call": per-delivery seconds}, service-call seconds, deliveries expected)."""
    by_person = {}
    for tab in tabs:
        by_person.setdefault(tab.person["id"], []).append(tab)
    sent = []
    for number, person_tabs in enumerate(list(by_person.values())[:PUSHES]):
        if time.monotonic() > deadline:
            break
        memo = f"push-{number}"
        await producer.create(person_tabs[0].person, memo)
        sent.append((memo, person_tabs))
        await asyncio.sleep(PUSH_GAP)
    settle = time.monotonic() + 3
    expected = [(memo, tab) for memo, person_tabs in sent for tab in person_tabs]
    while time.monotonic() < settle and not all(memo in tab.created for memo, tab in expected):
        await asyncio.sleep(0.05)
    answers = producer.answers
    arrived = [(tab.created[memo], answers[memo]) for memo, tab in expected if memo in tab.created and memo in answers]
    latencies = {
        "commit": [at - answer["committed"] for at, answer in arrived],
        "call": [at - answer["started"] for at, answer in arrived],
    }
    made = [answers[memo] for memo, _ in sent if memo in answers]
    return latencies, made, len(expected)


async def measure(data, base, pid, producer, deadline):
    warm = Tab(data["persons"][0])  # imports and pools on the server's socket path, before the baseline
    await warm.open(
        base.replace("http", "ws", 1) + "/ws/approvals/", aa.cookie_header(warm.person, data["cookies"]), base
    )
    warm.drop()
    await asyncio.sleep(1)
    lag, cpu_client = aa.LoopLag().start(), time.process_time()
    rss_before, cpu_before, opened_at = aa.rss_bytes(pid), aa.cpu_seconds(pid), time.monotonic()
    tabs, errors = await open_all(data, base, deadline - TAIL_SECONDS)
    opening = {
        "seconds": time.monotonic() - opened_at,
        "server_cpu": aa.cpu_seconds(pid) - cpu_before,
        "client_cpu": time.process_time() - cpu_client,
        "lag": lag.stop(),
    }
    await asyncio.sleep(2)  # let the server settle before reading its memory
    rss_after = aa.rss_bytes(pid)
    lag, cpu_client, cpu_server = aa.LoopLag().start(), time.process_time(), aa.cpu_seconds(pid)
    latencies, calls, expected = await push_all(producer, tabs, time.monotonic() + PUSH_SECONDS)
    pushing = {
        "server_cpu": aa.cpu_seconds(pid) - cpu_server,
        "client_cpu": time.process_time() - cpu_client,
        "lag": lag.stop(),
    }
    still_open = sum(tab.socket.close_code is None for tab in tabs)
    for tab in tabs:
        tab.drop()
    return {
        "sockets": len(tabs),
        "still_open": still_open,
        "errors": errors,
        "opening": opening,
        "pushing": pushing,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "latencies": latencies,
        "calls": calls,
        "expected": expected,
    }


def run(budget_seconds: float = 150.0) -> dict:
    started = time.monotonic()
    deadline = started + budget_seconds - 10  # room to stop the processes and drop the database
    fd_limit = aa.raise_fd_limit()
    port = aa.free_port()
    base = f"http://127.0.0.1:{port}"
    with aa.interruptible():
        try:
            with aa.Fleet() as fleet:
                aa.empty_stack()
                server = fleet.uvicorn("web", port)
                producer_process = fleet.producer()
                setup = aa.migrate()
                seeding = time.monotonic()
                # One agent (the first person's) asks on everyone's behalf: registering 200 agents
                # would cost ~15 s of the budget and change nothing on the push path.
                data = aa.seed({"persons": PERSONS, "agents": 1})
                seeding = time.monotonic() - seeding
                aa.wait_healthy(fleet, "web", base)
                producer = Producer(producer_process, data["persons"][0]["agent_id"])
                measured = asyncio.run(measure(data, base, server.pid, producer, deadline))
                fleet.check_alive("web")
        finally:
            aa.cleanup()
    measured |= {"setup": setup, "seeding": seeding, "fd_limit": fd_limit, "elapsed": time.monotonic() - started}
    return report(measured)


def report(m):
    n, per_socket_kib = m["sockets"], (m["rss_after"] - m["rss_before"]) / max(m["sockets"], 1) / 1024
    target = f">= {TARGET_SOCKETS} sockets, push p99 <= {TARGET_MS:g} ms"
    rows = [
        aa.row(SCENARIO, "authenticated sockets held by one process", n, "sockets", target, n >= TARGET_SOCKETS),
        aa.row(SCENARIO, "server memory per socket (VmRSS growth / sockets)", per_socket_kib, "KiB", "report"),
        aa.row(SCENARIO, "socket open rate, 100 handshakes in flight", n / m["opening"]["seconds"], "sockets/s", "-"),
    ]
    commit, call = m["latencies"]["commit"], m["latencies"]["call"]
    if commit:
        push, whole = aa.summary_ms(commit), aa.summary_ms(call)
        rows += [
            aa.row(SCENARIO, f"push p50, commit -> socket ({n} open)", push["p50"], "ms", target),
            aa.row(SCENARIO, f"push p99, commit -> socket ({n} open)", push["p99"], "ms", target, push["p99"] <= 50),
            aa.row(SCENARIO, f"push p99, service call -> socket ({n} open)", whole["p99"], "ms", "- (context)"),
        ]
    return {"rows": rows, "notes": notes(m)}


def notes(m):
    n, opening, pushing = m["sockets"], m["opening"], m["pushing"]
    calls = aa.summary_ms([made["took"] for made in m["calls"]] or [0])
    hooks = aa.summary_ms([made["hooks_done"] - made["committed"] for made in m["calls"]] or [0])
    whole = aa.summary_ms(m["latencies"]["call"]) if m["latencies"]["call"] else {"p50": 0}
    errors = "; ".join(f"{count}x {kind}" for kind, count in m["errors"].most_common(3)) or "none"
    return [
        f"One uvicorn process (Procfile flags, no --workers), Redis channel layer, PostgreSQL, DEBUG=False; "
        f"{PERSONS} persons x {TABS} tabs sharing the person's session, Origin allowed; one asyncio client.",
        f"Opened {n} of {PERSONS * TABS} sockets in {opening['seconds']:.1f} s; server CPU "
        f"{opening['server_cpu'] * 1000 / max(n, 1):.1f} ms per socket (session + user + pending-approvals "
        f"queries, 2 group_adds); client CPU {opening['client_cpu'] * 1000 / max(n, 1):.1f} ms per socket, "
        f"loop lag p99 {opening['lag'].get('p99_ms', 0):.0f} ms. Not opened / failed: {errors}. "
        f"{m['still_open']} still open after the pushes.",
        f"Memory: server VmRSS {m['rss_before'] / 2**20:.0f} MiB before and {m['rss_after'] / 2**20:.0f} MiB "
        "after opening them (after a warm-up socket, read 2 s after the last one opened).",
        f"Pushes: {len(m['calls'])} approvals for {len(m['calls'])} different persons, created one at a time by "
        "a separate producer process through approvals.services.request_approval; "
        f"{len(m['latencies']['commit'])} of {m['expected']} socket deliveries arrived. commit -> socket is the "
        "push path (after-commit hooks: audit seal, group_send, Redis, the server, the socket); service call -> "
        f"socket adds the transaction (p50 {whole['p50']:.0f} ms). The product's after-commit hooks took p50 "
        f"{hooks['p50']:.0f} / p99 {hooks['p99']:.0f} ms; the whole service call p50 {calls['p50']:.0f} / p99 "
        f"{calls['p99']:.0f} ms.",
        f"While pushing: server CPU {pushing['server_cpu']:.2f} s, client CPU {pushing['client_cpu']:.2f} s, "
        f"client loop lag p99 {pushing['lag'].get('p99_ms', 0):.0f} ms; machine load average "
        f"{os.getloadavg()[0]:.1f} (2 shared cores). migrate {m['setup']:.1f} s, seeding "
        f"{m['seeding']:.1f} s; whole scenario {m['elapsed']:.1f} s.",
    ]


if __name__ == "__main__":
    aa.print_table(run(aa.budget_from_argv(150.0)))
