"""Servers kept running across comparisons: started together, each stopped when no longer needed.

Starting a Django server takes seconds on a busy machine; the production AgentAuth server is in
every scenario. The pool starts what a comparison needs in parallel and keeps it for the next.
"""

from . import proc

START_SECONDS = 60


class ServerPool:
    def __init__(self):
        self.running = {}

    def ensure(self, systems, timeout=START_SECONDS):
        """Start every system not yet running, all at once; returns {name: why it did not start}."""
        started = {system.name: system.start() for system in systems if system.name not in self.running}
        failures = {}
        for name, server in started.items():
            try:
                self.running[name] = server.wait_healthy(timeout)
            except proc.CommandFailed as failure:
                server.stop()
                failures[name] = str(failure).splitlines()[0]
        return failures

    def get(self, system):
        return self.running[system.name]

    def stop(self, system):
        server = self.running.pop(system.name, None)
        if server is not None:
            server.stop()

    def close(self):
        """Stop every server, even if stopping one of them fails."""
        while self.running:
            _, server = self.running.popitem()
            try:
                server.stop()
            except Exception:  # noqa: BLE001, S112 - the others must still be stopped
                continue
