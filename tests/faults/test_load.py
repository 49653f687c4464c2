"""Load: many agents asking for tokens and approvals at once while scripted persons decide.

`make stress` runs 200 agents for 60 s; CI runs it bounded after the suite (`.ci/run`). Two ASGI
processes, a Celery worker, Redis and PostgreSQL: the production shape.
"""

import asyncio
import json
import logging
import os
import random
import time
import uuid
from pathlib import Path

import httpx
import pytest
import requests
import websockets

from agentauth.oauth.registration import register_agent
from approvals.models import ApprovalRequest
from examples.models import Payment

from ..factories import UserFactory
from ..servers import asgi_server, celery_worker, run_command
from .test_faults import session_for

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the report
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.getenv("STRESS") != "1", reason="load test: run `make stress` (STRESS=1)"),
]
AGENTS = int(os.getenv("STRESS_AGENTS", "40"))
PERSONS = max(1, AGENTS // 10)
SECONDS = float(os.getenv("STRESS_SECONDS", "12"))
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "stress-report.json"
PUSHED = set()  # approval ids a person's open feed announced
LATENCIES = []  # seconds from an agent's 202 to the final status its long-poll returned
FINAL = {"executed", "denied", "expired", "cancelled", "failed"}


async def agent_loop(index, bases, credentials, deadline, counts, seen):
    client_id, secret = credentials
    base = bases[index % len(bases)]
    async with httpx.AsyncClient(timeout=40) as http:
        while time.monotonic() < deadline:
            token = await http.post(
                f"{base}/o/token/", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
            )
            counts[token.status_code] = counts.get(token.status_code, 0) + 1
            if token.status_code >= 500:
                print("5xx token", token.status_code, token.text[:300])
            if token.status_code != 200:
                await asyncio.sleep(0.5)
                continue
            headers = {"Authorization": f"Bearer {token.json()['access_token']}", "Idempotency-Key": uuid.uuid4().hex}
            body = {"amount": f"{random.randint(1, 500)}.00", "currency": "EUR", "to": f"Shop {index}", "memo": ""}
            asked = await http.post(f"{base}/api/v1/payments/", json=body, headers=headers)
            counts[asked.status_code] = counts.get(asked.status_code, 0) + 1
            if asked.status_code >= 500:
                print("5xx", asked.status_code, asked.text[:300])
            if asked.status_code != 202:
                await asyncio.sleep(0.5)
                continue
            approval_id = asked.json()["approval_id"]
            seen[approval_id] = "pending"
            asked_at = time.monotonic()
            while time.monotonic() < deadline + 90:
                answer = await http.get(f"{base}/api/v1/approvals/{approval_id}", params={"wait": 10}, headers=headers)
                counts[answer.status_code] = counts.get(answer.status_code, 0) + 1
                if answer.status_code >= 500:
                    print("5xx status", answer.status_code, answer.text[:300])
                if answer.status_code == 200 and answer.json()["status"] in FINAL:
                    seen[approval_id] = answer.json()["status"]
                    LATENCIES.append(time.monotonic() - asked_at)
                    break


async def person_loop(session, base, ready, done, decided, reconnects):
    """A person with the approvals feed open, deciding each request as it arrives (several at once,
    as with several tabs: the person is not what this test measures). Like the portal's live.js:
    no client pings, and a closed feed is opened again, which resends every pending approval."""
    cookies = {"sessionid": session.cookies["sessionid"], "csrftoken": session.cookies["csrftoken"]}
    headers = {"Cookie": "; ".join(f"{key}={value}" for key, value in cookies.items()), "Origin": base}
    url = base.replace("http", "ws") + "/ws/approvals/"
    deciding, decided_ids = set(), set()

    async def decide(http, approval_id):
        decision = "approve" if random.random() < 0.7 else "deny"
        answer = await http.post(f"{base}/api/v1/approvals/{approval_id}/decision", json={"decision": decision})
        decided[answer.status_code] = decided.get(answer.status_code, 0) + 1

    async def listen(feed, http):
        try:
            async for raw in feed:
                message = json.loads(raw)
                if message["type"] == "approval.created" and message["approval"]["id"] not in decided_ids:
                    PUSHED.add(message["approval"]["id"])
                    decided_ids.add(message["approval"]["id"])
                    task = asyncio.create_task(decide(http, message["approval"]["id"]))
                    deciding.add(task)
                    task.add_done_callback(deciding.discard)
        except websockets.ConnectionClosed as closed:
            print("feed closed:", closed)

    async with httpx.AsyncClient(cookies=cookies, headers={"X-CSRFToken": cookies["csrftoken"]}, timeout=40) as http:
        first = True
        while not done.is_set():
            try:
                async with websockets.connect(
                    url, additional_headers=headers, open_timeout=30, ping_interval=None
                ) as feed:
                    if first:
                        ready.release()
                        first = False
                    listener = asyncio.create_task(listen(feed, http))
                    finished = asyncio.create_task(done.wait())
                    await asyncio.wait([listener, finished], return_when=asyncio.FIRST_COMPLETED)
                    listener.cancel()
                    finished.cancel()
            except (TimeoutError, OSError, websockets.WebSocketException) as error:
                print("feed closed:", repr(error)[:200])
            if not done.is_set():
                reconnects.append(time.monotonic())
                await asyncio.sleep(0.5)
        await asyncio.gather(*deciding)


def percentiles(values):
    ordered = sorted(values) or [0]
    return [round(ordered[int(len(ordered) * share)], 2) for share in (0.5, 0.99)]


def test_agents_and_persons_under_load_lose_and_duplicate_nothing(redis_url, requires_postgres, catalogue):
    people = [UserFactory(username=f"load{n}") for n in range(PERSONS)]
    credentials = []
    for index in range(AGENTS):
        agent, secret = register_agent(
            name=f"Load agent {index}",
            owner=people[index % len(people)],
            grant_types=["client_credentials"],
            grant_scopes=["payments:execute", "payments:read"],
        )
        credentials.append((agent.client_id, secret))
    limits = {"AGENTAUTH_RATE_TOKEN": "100000/min", "AGENTAUTH_RATE_TOKEN_IP": "100000/min"}
    counts, seen, decided, reconnects = {}, {}, {}, []
    with asgi_server(**limits) as first, asgi_server(**limits) as second, celery_worker():
        bases = [first, second]
        # Persons watch the process the agents of the other half use: every push crosses Redis.
        sessions = [session_for(person, bases[(index + 1) % 2]) for index, person in enumerate(people)]

        async def everyone():
            done, ready = asyncio.Event(), asyncio.Semaphore(0)
            persons = [
                asyncio.create_task(person_loop(session, bases[(index + 1) % 2], ready, done, decided, reconnects))
                for index, session in enumerate(sessions)
            ]
            for _ in persons:  # every person is watching before the first agent asks
                await asyncio.wait_for(ready.acquire(), timeout=60)
            deadline = time.monotonic() + SECONDS
            await asyncio.gather(
                *[agent_loop(index, bases, credentials[index], deadline, counts, seen) for index in range(AGENTS)]
            )
            done.set()
            await asyncio.gather(*persons)

        started = time.monotonic()
        asyncio.run(everyone())
        run_command("run_sweeps", "--stuck-after", "0")
        settle = time.monotonic() + 30
        while time.monotonic() < settle and ApprovalRequest.objects.filter(status="approved").exists():
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        readyz = requests.get(f"{first}/readyz").status_code

    approvals = {row.pk: row.status for row in ApprovalRequest.objects.all()}
    payments = list(Payment.objects.values_list("approval_id", flat=True))
    report = {
        "agents": AGENTS,
        "seconds": round(elapsed, 1),
        "http_statuses": {str(code): count for code, count in sorted(counts.items())},
        "decision_statuses": {str(code): count for code, count in sorted(decided.items())},
        "approvals_seen_by_agents": len(seen),
        "approvals_in_database": len(approvals),
        "lost": len(set(seen) - set(approvals)),
        "executed": sum(status == "executed" for status in approvals.values()),
        "left_pending": sum(status == "pending" for status in approvals.values()),
        "never_pushed_to_the_person": len(set(approvals) - PUSHED),
        "feed_reconnects": len(reconnects),
        "denied": sum(status == "denied" for status in approvals.values()),
        "still_approved": sum(status == "approved" for status in approvals.values()),
        "payments": len(payments),
        "duplicate_payments": len(payments) - len(set(payments)),
        "server_errors": sum(count for code, count in counts.items() if code >= 500)
        + sum(count for code, count in decided.items() if code >= 500),
        "approval_to_final_seconds_p50_p99": percentiles(LATENCIES),
        "agent_view_disagrees_with_database": sum(
            1 for pk, status in seen.items() if status in FINAL and approvals.get(pk) != status
        ),
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))

    assert readyz == 200
    assert report["approvals_seen_by_agents"] > 0
    assert report["lost"] == 0 and report["duplicate_payments"] == 0 and report["server_errors"] == 0
    assert report["still_approved"] == 0 and report["left_pending"] == 0
    assert report["payments"] == report["executed"]
    assert report["never_pushed_to_the_person"] == 0
    assert report["agent_view_disagrees_with_database"] == 0
