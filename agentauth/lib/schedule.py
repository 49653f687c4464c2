"""Beat's schedule, run inside the web process, for the embedded default (`make run`: no Redis,
no beat, tasks run eagerly). Expiry, sweeps, audits and alerts then happen there too.

One daemon thread runs each task of CELERY_BEAT_SCHEDULE in turn when it falls due. With Redis a
real beat does this instead (agentauth.lib.beat), so this never starts then.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)
_started = threading.Event()


def due(schedule, last_run, now):
    """The names in `schedule` whose interval has passed since they last ran (or since start)."""
    return [name for name, entry in schedule.items() if now - last_run[name] >= float(entry["schedule"])]


def run_once(app, name, entry):
    try:
        app.tasks[entry["task"]].apply(args=entry.get("args", ()), throw=True)
    except Exception:
        log.exception("scheduled task %s failed; it runs again at its next turn", name)
    finally:
        close_old_connections()


def start(app):
    """Start the in-process schedule once per process; a no-op where a real beat runs."""
    if settings.REDIS_URL or _started.is_set():
        return
    _started.set()
    schedule = settings.CELERY_BEAT_SCHEDULE

    def loop():
        app.loader.import_default_modules()  # registers every task, as a worker would
        last_run = dict.fromkeys(schedule, time.monotonic())
        while True:
            time.sleep(1)
            for name in due(schedule, last_run, time.monotonic()):
                run_once(app, name, schedule[name])
                last_run[name] = time.monotonic()

    threading.Thread(target=loop, name="agentauth-schedule", daemon=True).start()
    log.info("running the periodic jobs in this process (%d on the schedule)", len(schedule))
