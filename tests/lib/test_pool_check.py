"""The pool asks PostgreSQL about a connection only when it has been idle for a second."""

import pytest

from agentauth.lib import pool_check


class Connection:
    """Stands in for a psycopg connection: counts the checks that reach the server."""

    autocommit = True

    def __init__(self, alive=True):
        self.alive, self.asked = alive, 0

    def execute(self, query):
        self.asked += 1
        if not self.alive:
            raise OSError("server closed the connection")


def test_a_connection_in_use_is_not_asked_again_within_a_second(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(pool_check.time, "monotonic", lambda: now[0])
    connection = Connection()

    for _ in range(5):
        pool_check.check_idle_connection(connection)
        now[0] += 0.1
    assert connection.asked == 1  # the first checkout, then in use

    now[0] += pool_check.IDLE_SECONDS
    pool_check.check_idle_connection(connection)
    assert connection.asked == 2  # idle for a second: asked again


def test_an_idle_connection_the_server_dropped_is_refused(monkeypatch):
    connection = Connection(alive=False)

    with pytest.raises(OSError):
        pool_check.check_idle_connection(connection)
