"""The Celery app: late acks, reject on worker loss, prefetch 1, a static beat schedule."""

import inspect
import os

from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun, task_retry, task_success

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentauth.settings")

app = Celery("agentauth")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _count(outcome):
    def receiver(sender=None, request=None, **kwargs):
        from .lib import metrics

        name = getattr(sender, "name", None) or getattr(request, "task", None) or "unknown"
        metrics.TASKS.labels(task=name, outcome=outcome).inc()

    return receiver


for signal, outcome in ((task_success, "success"), (task_failure, "failure"), (task_retry, "retry")):
    signal.connect(_count(outcome), weak=False)  # closures: nothing else holds them


@task_prerun.connect
def _bind_log_context(task_id=None, task=None, args=(), kwargs=None, **extra):
    """Every line a task logs names the task and, for tasks about an approval, the approval."""
    from .lib import logs

    try:
        named = inspect.signature(task.run).bind_partial(*args, **(kwargs or {})).arguments
    except TypeError:
        named = {}
    task.request.log_context = logs.bind(task=task.name, task_id=task_id, approval_id=named.get("approval_id"))


@task_postrun.connect
def _unbind_log_context(task=None, **extra):
    from .lib import logs

    token = getattr(task.request, "log_context", None)
    if token is not None:
        logs.unbind(token)
