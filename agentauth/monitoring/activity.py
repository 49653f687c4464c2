"""Agent activity: per-minute counters on the request path, folded into rows by a beat task.

The request path only adds to this process's pending counts (a dict); a background thread writes
them to Redis in one pipeline every PUSH_SECONDS, so a busy agent's hundreds of calls cost one
HINCRBY and no call waits on Redis for monitoring. `flush` folds finished minutes into
ActivityMinute rows and runs the rules on them. A process killed outright loses at most its last
PUSH_SECONDS of counts: monitoring fails open, and a counter that cannot be written is logged,
never allowed to fail a call (it is kept and written with the next push).
"""

import atexit
import logging
import os
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from agentauth.identity.models import Agent
from agentauth.lib import redis_client

from . import alerts, rules
from .models import ActivityMinute, Alert, ScopeUse, Sighting

log = logging.getLogger(__name__)
OUTCOMES = ("calls", "refused", "insufficient_scope")
ACTIVITY = "agentauth:activity:"
SCOPE_USE = "agentauth:scopeuse"
PUSH_SECONDS = 0.5
MAX_PENDING = 100_000  # fields kept while Redis is away; past it the oldest counts are dropped


# --- recording, on the request path -------------------------------------------------------------


class _Local:
    """The embedded default's counters: one process, so a dict under a lock will do."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.minutes = defaultdict(Counter)
        self.scope_use = {}
        self.seen = set()


_local = _Local()


def reset():
    """Forget the in-process counters (tests)."""
    with _local.lock:
        _local.clear()
    _pending.take()
    with _written.lock:
        _written.until.clear()


def _redis():
    return redis_client.client(settings.REDIS_URL)


class _Pending:
    """Counts this process has not written to Redis yet, pushed by one daemon thread per process
    (started on first use, again after a fork) and once more at exit."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts, self.scope_use, self.pid = Counter(), {}, None

    def add(self, minute, field, scope_fields):
        with self.lock:
            self.counts[(minute, field)] += 1
            now = int(time.time())
            for scope_field in scope_fields:
                self.scope_use[scope_field] = now
            if self.pid != os.getpid():
                self.pid = os.getpid()
                threading.Thread(target=self._loop, name="activity-push", daemon=True).start()

    def take(self):
        with self.lock:
            taken = self.counts, self.scope_use
            self.counts, self.scope_use = Counter(), {}
            return taken

    def give_back(self, counts, scope_use):
        with self.lock:
            if len(self.counts) + len(counts) <= MAX_PENDING:
                self.counts.update(counts)
            for field, at in scope_use.items():
                self.scope_use.setdefault(field, at)

    def push(self):
        """Write what is pending in one pipeline; on failure keep it for the next push."""
        counts, scope_use = self.take()
        if not counts and not scope_use:
            return
        try:
            pipe = _redis().pipeline(transaction=False)
            for (minute, field), count in counts.items():
                pipe.hincrby(f"{ACTIVITY}{minute}", field, count)
            for minute in {minute for minute, _ in counts}:
                pipe.expire(f"{ACTIVITY}{minute}", 7200)
            if scope_use:
                pipe.hset(SCOPE_USE, mapping=scope_use)
            pipe.execute()
        except Exception:
            log.warning("activity counts not written; kept for the next push", exc_info=True)
            self.give_back(counts, scope_use)

    def _loop(self):
        pid = os.getpid()
        while self.pid == pid:
            time.sleep(PUSH_SECONDS)
            self.push()


_pending = _Pending()
atexit.register(_pending.push)


class _Written:
    """Origins this process checked lately: an origin is looked up in its agent's seen set at
    most once an hour per process, so that check is rare on the request path."""

    def __init__(self, limit=50_000):
        self.lock, self.limit, self.until = threading.Lock(), limit, {}

    def due(self, key, seconds):
        """True, once per `seconds` per key: the caller writes it and `forget`s it if that fails."""
        now = time.monotonic()
        with self.lock:
            if self.until.get(key, 0) > now:
                return False
            if len(self.until) >= self.limit:
                self.until.clear()
            self.until[key] = now + seconds
            return True

    def forget(self, keys):
        with self.lock:
            for key in keys:
                self.until.pop(key, None)


_written = _Written()


def note_call(client_id, subject, outcome, *, ip=None, user_agent="", scopes=()):
    """Count one API call; remember the scopes it used and where it came from."""
    minute = int(time.time() // 60)
    field = f"{client_id}|{subject}|{outcome}"
    origins = [(kind, value) for kind, value in (("ip", ip), ("ua", user_agent[:300])) if value]
    try:
        if settings.REDIS_URL:
            _pending.add(minute, field, [f"{client_id}|{subject}|{scope}" for scope in scopes])
            new = _new_origins_in_redis(client_id, origins)
        else:
            with _local.lock:
                _local.minutes[minute][field] += 1
                for scope in scopes:
                    _local.scope_use[f"{client_id}|{subject}|{scope}"] = int(time.time())
                new = [(kind, value) for kind, value in origins if (client_id, kind, value) not in _local.seen]
                _local.seen.update((client_id, kind, value) for kind, value in new)
    except Exception:
        log.warning("activity for %s not counted", client_id, exc_info=True)
        return
    for kind, value in new:
        _first_sighting(client_id, subject, kind, value)


def _new_origins_in_redis(client_id, origins):
    """The origins Redis had not seen for this agent, asking about each at most once an hour."""
    due = [(kind, value) for kind, value in origins if _written.due(("seen", client_id, kind, value), 3600)]
    if not due:
        return []
    pipe = _redis().pipeline(transaction=False)
    for kind, value in due:
        pipe.sadd(f"agentauth:seen:{client_id}:{kind}", value)
    try:
        added = pipe.execute()
    except Exception:
        _written.forget([("seen", client_id, kind, value) for kind, value in due])  # the next call asks again
        raise
    return [origin for origin, fresh in zip(due, added, strict=True) if fresh]


def _first_sighting(client_id, subject, kind, value):
    """Rare (first time this process or Redis sees the value): persist it, alert if the agent is not new."""
    try:
        with transaction.atomic():
            known_before = Sighting.objects.filter(client_id=client_id, kind=kind).exists()
            _, created = Sighting.objects.get_or_create(client_id=client_id, kind=kind, value=value)
        if created and known_before:
            agent = Agent.objects.filter(client_id=client_id).first()
            if agent is not None:
                what = "IP address" if kind == "ip" else "user agent"
                alerts.raise_alert(
                    "new_origin",
                    agent,
                    alerts.person_of(subject),
                    Alert.Severity.LOW,
                    f"{agent.name} called from a new {what}: {value[:80]}",
                    {"kind": kind, "value": value},
                )
    except (IntegrityError, ValueError):
        pass  # another process recorded it first


# --- folding minutes into rows, then the rules ---------------------------------------------------


def _drain(before_minute):
    """Take the counters of every minute before `before_minute` out of the store."""
    drained = {}
    if settings.REDIS_URL:
        _pending.push()  # this process's own counts first
        client = _redis()
        for key in client.scan_iter(f"{ACTIVITY}*"):
            minute = int(key.rsplit(":", 1)[1])
            if minute < before_minute:
                pipe = client.pipeline()
                pipe.hgetall(key)
                pipe.delete(key)
                drained[minute] = {field: int(count) for field, count in pipe.execute()[0].items()}
        pipe = client.pipeline()
        pipe.hgetall(SCOPE_USE)
        pipe.delete(SCOPE_USE)
        scope_use = {field: int(at) for field, at in pipe.execute()[0].items()}
    else:
        with _local.lock:
            for minute in [minute for minute in _local.minutes if minute < before_minute]:
                drained[minute] = dict(_local.minutes.pop(minute))
            scope_use, _local.scope_use = _local.scope_use, {}
    return drained, scope_use


def flush(now=None):
    """Fold finished minutes into ActivityMinute rows and run the rules on what changed."""
    now = now or time.time()
    drained, scope_use = _drain(int(now // 60))
    touched = set()
    for minute, fields in drained.items():
        rows = defaultdict(Counter)
        for field, count in fields.items():
            client_id, subject, outcome = field.rsplit("|", 2)
            rows[(client_id, subject)][outcome] += count
        for (client_id, subject), counts in rows.items():
            _add_minute(client_id, subject, minute, counts)
            touched.add((client_id, subject, minute))
    _store_scope_use(scope_use)
    for client_id, subject, minute in touched:
        rules.check_rules(client_id, subject, minute)
    return len(touched)


def _add_minute(client_id, subject, minute, counts):
    user_id = int(subject) if str(subject).isdigit() else None
    at = datetime.fromtimestamp(minute * 60, tz=UTC)
    row, _ = ActivityMinute.objects.get_or_create(client_id=client_id, user_id=user_id, minute=at)
    ActivityMinute.objects.filter(pk=row.pk).update(**{name: F(name) + counts.get(name, 0) for name in OUTCOMES})


def _store_scope_use(scope_use):
    agents = {
        agent.client_id: agent for agent in Agent.objects.filter(client_id__in={f.split("|")[0] for f in scope_use})
    }
    for field, at in scope_use.items():
        client_id, subject, scope = field.split("|", 2)
        if client_id in agents and subject.isdigit():
            ScopeUse.objects.update_or_create(
                user_id=int(subject),
                agent=agents[client_id],
                scope=scope,
                defaults={"last_used_at": datetime.fromtimestamp(at, tz=UTC)},
            )
