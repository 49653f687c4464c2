"""The production shape scaled out on one machine, from the Procfile's own commands: two web, two
live, two worker processes and one beat (two started: one runs the schedule) against one
PostgreSQL and one Redis. Work crosses processes, and killing one process of each kind (with its
children, as a container dies) loses nothing."""

import json
import os
import signal
from contextlib import ExitStack, contextmanager

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from approvals.models import ApprovalRequest
from examples.models import Payment

from ..servers import ROOT, RedisServer, _ping_worker, free_port, output_of, spawn, wait_for, wait_until_up
from .test_faults import pay, session_for, session_for_cookie

pytestmark = [pytest.mark.django_db(transaction=True)]


def procfile():
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


@contextmanager
def started(kind, port, **env):
    command = procfile()[kind]
    command = command if "&&" in command else f"exec {command}"  # the shell becomes the server
    process = spawn(
        f"{kind}-{port}", ["sh", "-c", command], own_group=True, PORT=str(port), BIND_HOST="127.0.0.1", **env
    )
    try:
        if kind in ("web", "live"):
            wait_until_up(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok, kind, process, 60)
        yield process
    finally:
        kill(process, signal.SIGTERM)
        process.log.close()


def kill(process, how=signal.SIGKILL):
    if process.poll() is None:
        try:
            os.killpg(process.pid, how)
            process.wait(timeout=20)
        except (ProcessLookupError, PermissionError):
            pass
        except Exception:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def counter(base, name, **labels):
    text = requests.get(f"{base}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items())
    )


@pytest.fixture
def shape(tmp_path):
    redis_server = RedisServer().start()
    env = {
        "REDIS_URL": redis_server.url,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        "AGENTAUTH_SWEEP_SECONDS": "1",
        "AGENTAUTH_STUCK_SECONDS": "3",
    }
    ports = {"web": [free_port(), free_port()], "live": [free_port(), free_port()], "worker": [1, 2], "beat": [1, 2]}
    with ExitStack() as stack:
        processes = {
            kind: [stack.enter_context(started(kind, port, **env)) for port in numbers]
            for kind, numbers in ports.items()
        }
        wait_until_up(lambda: len(_ping_worker(redis_server.url)) >= 2, "two workers", processes["worker"][0], 60)
        yield {kind: list(zip(ports[kind], processes[kind], strict=True)) for kind in ports}
    redis_server.stop()


def test_work_crosses_processes_and_survives_losing_one_of_each(shape, person_and_agent):
    person, agent = person_and_agent
    (web_a, web_a_process), (web_b, _) = [(f"http://127.0.0.1:{port}", process) for port, process in shape["web"]]
    (live_a, live_a_process), (live_b, _) = [(f"http://127.0.0.1:{port}", process) for port, process in shape["live"]]
    token = requests.post(
        f"{web_a}/o/token/", data={"grant_type": "client_credentials"}, auth=(agent.client_id, agent.plain_secret)
    ).json()["access_token"]
    cookie = f"sessionid={session_for_cookie(person)}"
    socket_on_b = connect(
        live_b.replace("http", "ws") + "/ws/approvals/",
        additional_headers={"Cookie": cookie, "Origin": live_b},
        open_timeout=10,
    )
    with socket_on_b:
        first = pay(web_a, token).json()["approval_id"]
        seen = json.loads(socket_on_b.recv(timeout=10))
        decided = session_for(person, web_b).post(
            f"{web_b}/api/v1/approvals/{first}/decision", json={"decision": "approve"}, timeout=10
        )
        assert wait_for(lambda: ApprovalRequest.objects.get(pk=first).status == "executed", timeout=30)

        # One of each kind dies at once, like a machine losing a container of each.
        for victim in (web_a_process, live_a_process, shape["worker"][0][1], shape["beat"][0][1]):
            kill(victim)
        second = pay(web_b, token).json()["approval_id"]
        while (event := json.loads(socket_on_b.recv(timeout=10)))["approval"]["id"] != second:
            pass
        session_for(person, web_b).post(
            f"{web_b}/api/v1/approvals/{second}/decision", json={"decision": "approve"}, timeout=10
        )
        executed = wait_for(lambda: ApprovalRequest.objects.get(pk=second).status == "executed", timeout=60)
        issued = counter(web_b, "agentauth_tokens_total", outcome="issued")
        approved = counter(web_b, "agentauth_approvals_total", status="approved")

    survivors = [process for kind in shape.values() for _, process in kind[1:]]
    assert seen["type"] == "approval.created" and seen["approval"]["id"] == first
    assert decided.status_code == 200, decided.text
    assert event["type"] == "approval.created"
    assert executed, [output_of(process) for process in survivors]
    assert Payment.objects.count() == 2 and Payment.objects.values("approval").distinct().count() == 2
    assert all(process.poll() is None for process in survivors)
    # Counted by whichever process did the work (web A issued the token, and is dead), summed on any.
    assert issued == 1 and approved == 2
