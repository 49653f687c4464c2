"""Child processes: bounded commands, and servers that always die with their whole process group."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

from . import paths


class CommandFailed(RuntimeError):
    """A child command exited non-zero or ran out of time; the message carries its output's tail."""


def run(argv, *, timeout, env=None, cwd=paths.REPO, input_text=None, interrupt_grace=0.0):
    """Run a command to completion within `timeout` seconds and return its stdout. On timeout its
    whole process group is killed (pip and manage.py may have children of their own); with
    `interrupt_grace`, SIGINT comes first, so Python children run their `finally` blocks."""
    process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(input_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        if interrupt_grace:
            _kill_group(process, signal.SIGINT)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=interrupt_grace)
        _kill_group(process, signal.SIGKILL)
        process.communicate()
        raise CommandFailed(f"{' '.join(map(str, argv[:4]))}: no answer in {timeout:.0f} s") from None
    finally:
        _kill_group(process, signal.SIGKILL)  # nothing it started outlives it
    if process.returncode:
        last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
        command = " ".join(map(str, argv[:4]))
        raise CommandFailed(f"{command} exited {process.returncode}: {last.strip()[:300]}\n{stderr[-3000:]}")
    return stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kill_group(process, signum):
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def stop(process, grace=5.0):
    """SIGTERM to the group (gunicorn and uvicorn pass it to their workers), SIGKILL after `grace`."""
    _kill_group(process, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    _kill_group(process, signal.SIGKILL)  # the supervisor may have gone first, leaving workers
    process.wait(timeout=10)


def group_cpu_seconds(pgid):
    """User + system CPU time used so far by every live process in a process group (workers included)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5 of /proc/pid/stat: the process group
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Server:
    """A server in its own process group, its output in results/logs/<name>.log."""

    def __init__(self, name, argv, *, env, port, cwd=paths.REPO, health="/healthz"):
        paths.LOGS.mkdir(parents=True, exist_ok=True)
        self.name, self.base, self.health = name, f"http://127.0.0.1:{port}", health
        self.log_path = paths.LOGS / f"{name}.log"
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(  # noqa: S603 - our own servers, no shell
                [str(arg) for arg in argv],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pgid(self):
        return self.process.pid

    def wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-1500:]
                raise CommandFailed(f"{self.name} did not start (see {self.log_path}):\n{tail}")
            time.sleep(0.2)
        return self

    def _answers(self):
        try:
            with urllib.request.urlopen(self.base + self.health, timeout=1) as response:  # noqa: S310 - loopback
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def cpu_seconds(self):
        return group_cpu_seconds(self.pgid)

    def stop(self):
        stop(self.process)


@contextmanager
def serving(name, argv, *, env, port, cwd=paths.REPO, timeout=60):
    """A Server that answers its health check, killed with its whole group on exit, whatever happened."""
    server = Server(name, argv, env=env, port=port, cwd=cwd)
    try:
        yield server.wait_healthy(timeout)
    finally:
        server.stop()
