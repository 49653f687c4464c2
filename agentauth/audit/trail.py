"""The append-only, hash-chained audit log.

Each record carries the hash of the one before it, so changing or deleting any row breaks the
chain from there on, and `manage.py verify_audit_log` names the first broken record. Records are
written in the transaction of the change they describe: a change that rolls back leaves no record
claiming it happened.

Chaining happens in two steps so that audited writers never wait on each other. `record` only
inserts the row. When the transaction commits it wakes this process's sealer thread, which numbers
the committed rows not yet in the chain and hashes them onto it, under a lock on the single head
row that one sealer holds at a time; a sealer that finds another busy leaves the rows to it, to
the next commit, or to the periodic task. (Locking the head inside every writer's transaction
ordered the chain by commit too, but serialised every token issuance on the machine behind one
row lock; sealing on the request's own thread put ~20 ms under load before its pushes went out.)
"""

import contextvars
import hashlib
import json
import logging
import threading
import time

from django.db import connection, connections, transaction
from django.utils import timezone

from agentauth.lib.inserts import insert
from agentauth.lib.selects import Select

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64
log = logging.getLogger(__name__)
_request = contextvars.ContextVar("agentauth_audit_request", default=None)


def bind_request(request):
    """Remember who is asking (IP, user agent, request id) for every record written in this request."""
    return _request.set(
        {
            "ip": request.META.get("REMOTE_ADDR") or None,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "request_id": getattr(request, "request_id", ""),
        }
    )


def unbind_request(token):
    _request.reset(token)


def _digest(prev_hash, fields):
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def chained_fields(event):
    return {
        "at": event.at.isoformat(),
        "event": event.event,
        "outcome": event.outcome,
        "actor_type": event.actor_type,
        "actor": event.actor,
        "subject": event.subject_id,
        "client_id": event.client_id,
        "scope": event.scope,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "details": event.details,
    }


def _clean(value):
    """Strings as PostgreSQL stores them: no NUL (hostile input reaches the log too)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_clean(str(key)): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    return value


def record(event, **fields):
    """Append one record (the fields of `new_entry`) in the current transaction, opening one if
    there is none."""
    entry = new_entry(event, **fields)
    # No savepoint: a failed insert fails the change it describes (it must not commit unaudited).
    with transaction.atomic(savepoint=False):
        insert(entry)
        written()
    return entry


def new_entry(
    event,
    *,
    outcome="success",
    actor_type=None,
    actor="",
    subject=None,
    agent=None,
    client_id="",
    scope="",
    details=None,
):
    """The unsaved record `record` would append: for a caller that inserts it together with the
    change it describes (`lib.inserts.insert_while`), and then calls `written()`."""
    context = _request.get() or {}
    if actor_type is None:
        actor_type = AuditEvent.Actor.PERSON if actor else AuditEvent.Actor.SYSTEM
    return AuditEvent(
        at=timezone.now(),
        event=event,
        outcome=outcome,
        actor_type=actor_type,
        actor=_clean(str(actor))[:255],
        subject=subject,
        client_id=_clean(agent.client_id if agent is not None else client_id)[:255],
        scope=_clean(" ".join(sorted(scope)) if isinstance(scope, (list, tuple, set)) else str(scope))[:500],
        ip=context.get("ip"),
        user_agent=_clean(context.get("user_agent", "")),
        request_id=context.get("request_id", ""),
        details=_clean(json.loads(json.dumps(details or {}, default=str))),
    )


def written():
    """Records were inserted: have them sealed once their transaction commits."""
    # Once per transaction however many records it writes: a savepoint rolled back takes its
    # callback with it, so looking at the pending callbacks is exact.
    if not any(func == sealer.wake for _, func, _ in connection.run_on_commit):
        transaction.on_commit(sealer.wake)


class Sealer:
    """A daemon thread per process that seals shortly after a commit wakes it.

    It waits COALESCE_SECONDS first, so that the commits of a busy moment share one sealing
    transaction (six statements) instead of each paying for its own: under load, sealing one
    record per commit cost more CPU than issuing the token it described.
    """

    COALESCE_SECONDS = 0.2

    def __init__(self):
        self._lock = threading.Lock()
        self._pending = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = None

    def wake(self):
        with self._lock:
            # Started lazily, and again in a forked child (a worker), which inherits no threads.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
                self._thread.start()
        self._idle.clear()
        self._pending.set()

    def wait_idle(self, timeout=10):
        """Block until what has been committed so far is sealed (tests, shutdown)."""
        return self._idle.wait(timeout)

    def _run(self):
        while True:
            self._pending.wait()
            time.sleep(self.COALESCE_SECONDS)
            self._pending.clear()
            try:
                seal(wait=False)
            except Exception:
                log.warning("audit sealing failed; the periodic task will seal these records", exc_info=True)
            finally:
                connections.close_all()  # this thread's own connections, back to the pool
            if not self._pending.is_set():
                self._idle.set()


sealer = Sealer()


BATCH = 2000  # records per sealing transaction

# Sealing runs in every process, several times a second when busy: its reads are compiled once
# (lib.selects) and its writes sent as SQL, since through the ORM they cost more CPU than the
# five statements cost PostgreSQL.
_head = Select(lambda: AuditHead.objects.select_for_update().filter(pk=1))
_head_unless_busy = Select(lambda: AuditHead.objects.select_for_update(skip_locked=True).filter(pk=1))
_unsealed = Select(lambda: AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:BATCH])


def seal(*, wait=True):
    """Chain every committed, unsealed record; return how many were sealed.

    With wait=False, return 0 at once if another process is sealing (it, or the next commit, or
    the periodic task will take these records too).
    """
    sealed = 0
    while True:
        with transaction.atomic():
            head = _lock_head(wait)
            if head is None:
                return sealed
            entries = _unsealed.all()
            for entry in entries:
                head.last_seq += 1
                entry.seq, entry.prev_hash = head.last_seq, head.last_hash
                entry.hash = head.last_hash = _digest(entry.prev_hash, chained_fields(entry))
            if entries:
                _write_links(entries, head)
        sealed += len(entries)
        if len(entries) < BATCH:
            return sealed


def _write_links(entries, head):
    """One UPDATE for the batch (bulk_update builds a CASE per row and field: it cost more CPU
    than everything else in sealing), one for the head."""
    quote = connection.ops.quote_name
    table, head_table = quote(AuditEvent._meta.db_table), quote(AuditHead._meta.db_table)
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(entries))  # placeholders: the values are parameters
    sql = (
        f"UPDATE {table} SET seq = v.column2, prev_hash = v.column3, hash = v.column4 "  # noqa: S608
        f"FROM (VALUES {rows}) AS v WHERE {table}.id = v.column1"
    )
    params = [value for entry in entries for value in (entry.pk, entry.seq, entry.prev_hash, entry.hash)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(
            f"UPDATE {head_table} SET last_seq = %s, last_hash = %s WHERE id = %s",  # noqa: S608
            [head.last_seq, head.last_hash, head.pk],
        )


def _lock_head(wait):
    head = (_head if wait else _head_unless_busy).one()
    if head is None and not AuditHead.objects.filter(pk=1).exists():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
    return head


def verify():
    """Seal what is waiting, then walk the chain from the start.

    Returns (records checked, first broken record or None).
    """
    seal()
    expected_prev = GENESIS
    checked = 0
    for entry in AuditEvent.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        if entry.prev_hash != expected_prev or entry.hash != _digest(entry.prev_hash, chained_fields(entry)):
            return checked, entry
        expected_prev = entry.hash
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != expected_prev:
        return checked, MissingTail()
    return checked, None


class MissingTail:
    """Stands in for records deleted from the end of the chain (the head no longer matches)."""

    pk = "after the last record"

    def __str__(self):
        return "records after the last one were deleted: the chain head does not match"
