"""Locks on a name for the rest of the current transaction, for checks that read before they write."""

from django.db import connection


def hold(name):
    """Serialise transactions that check and then act on the same `name` (a budget, a counter).

    On PostgreSQL a transaction-scoped advisory lock, released at commit or rollback; no row is
    locked, so foreign-key checks of other transactions never wait on it. SQLite (the embedded
    default) lets one writer at a time commit, which is the closest it offers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
