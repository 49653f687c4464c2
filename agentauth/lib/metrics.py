"""Prometheus metrics (prometheus_client): what happened, counted where it happens, plus gauges
read from the truth (database, broker) at scrape time.

Processes on one machine share their counters through PROMETHEUS_MULTIPROC_DIR (the Procfile and
`make scale-demo` set it; gunicorn's workers, the live server and Celery's workers each write
their own files there, and /metrics adds them up). Without it, /metrics shows this process alone.
"""

import hmac
import ipaddress
import logging
import os

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from oauth2_provider.compat import login_not_required
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)
TOKENS = Counter("agentauth_tokens_total", "Token requests answered", ["grant_type", "outcome"])
API_AUTH_SECONDS = Histogram(
    "agentauth_api_auth_seconds",
    "Time to authenticate a call to a protected API (signature, revocation, DPoP)",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1),
)
APPROVALS = Counter("agentauth_approvals_total", "Approval state changes", ["status"])
DECISION_SECONDS = Histogram(
    "agentauth_time_to_decision_seconds",
    "From an approval's request to its person's decision",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 900),
)
DELIVERIES = Counter("agentauth_deliveries_total", "Pushes, e-mails and callbacks", ["channel", "outcome"])
TASKS = Counter("agentauth_tasks_total", "Celery task outcomes", ["task", "outcome"])
RATE_LIMITED = Counter("agentauth_rate_limited_total", "Requests refused by a rate limit", ["bucket"])

_gauges = []


def gauge(function):
    """Register `function() -> iterable of (name, help, label name or None, {label value: number})`,
    read at every scrape."""
    _gauges.append(function)
    return function


class _Gauges:
    def collect(self):
        for function in _gauges:
            try:
                readings = list(function())
            except Exception:  # a scrape must not fail because one source is down
                log.warning("metrics source %s failed", function.__name__, exc_info=True)
                continue
            for name, help_text, label, values in readings:
                family = GaugeMetricFamily(name, help_text, labels=[label] if label else None)
                for key, value in values.items():
                    family.add_metric([key] if label else [], value)
                yield family


_GAUGES = _Gauges()
REGISTRY.register(_GAUGES)


def _registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_GAUGES)
    return registry


def _allowed(request):
    token = settings.AGENTAUTH_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False  # through a proxy on this machine every caller looks like loopback
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_GET
@login_not_required
def view(request):
    """Prometheus text format, for loopback addresses and for `Bearer $AGENTAUTH_METRICS_TOKEN`."""
    if not _allowed(request):
        return HttpResponse("Forbidden: loopback or a metrics token only.\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


@gauge
def queue_depth():
    """Messages waiting in the Celery queue (Redis transport: a list per queue)."""
    if not settings.REDIS_URL:
        return []
    from . import redis_client

    waiting = redis_client.client(settings.REDIS_URL).llen("celery")
    return [("agentauth_queue_depth", "Tasks waiting for a worker", "queue", {"celery": waiting})]
