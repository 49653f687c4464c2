"""Log lines that say which request, agent, approval or task they belong to.

A request or task binds what it knows (`bind`), and learns more as it goes (`note`: the agent once
its token is checked, the approval once it exists); `ContextFilter` copies all of it onto every
record logged meanwhile, and `JSONFormatter` writes one JSON object per line (production).
"""

import contextvars
import json
import logging
import time

_context = contextvars.ContextVar("agentauth_log_context", default=None)


def bind(**fields):
    """Start a fresh context (a request, a task); returns the token for `unbind`."""
    return _context.set(dict(fields))


def unbind(token):
    _context.reset(token)


def note(**fields):
    """Add to the current context, if there is one (a request or a task)."""
    current = _context.get()
    if current is not None:
        current.update({key: value for key, value in fields.items() if value})


class ContextFilter(logging.Filter):
    def filter(self, record):
        for key, value in (_context.get() or {}).items():
            setattr(record, key, value)
        return True


CONTEXT_FIELDS = ("request_id", "client_id", "approval_id", "task", "task_id")


class JSONFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key) for key in CONTEXT_FIELDS if getattr(record, key, None)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
