"""Celery beat that runs once per deployment, however many beat processes are started.

Each beat holds a lease in Redis (SET NX with an expiry, renewed while it lives); only the holder
sends scheduled tasks, the others wait to take over when its lease lapses (a crashed or stopped
beat stops renewing). While Redis is down nobody holds the lease, and nothing could be sent anyway;
the schedule resumes when it is back, and the sweeps then catch up from the database.
"""

import logging
import os
import socket

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

from . import redis_client

log = logging.getLogger(__name__)
LEASE_KEY = "agentauth:beat:leader"
LEASE_SECONDS = 30

# Renew if it is ours, take it if it is free; 1 when we hold it afterwards.
_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""


class SingleBeat(PersistentScheduler):
    def __init__(self, *args, **kwargs):
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self.leading = False
        super().__init__(*args, **kwargs)

    def _hold_lease(self):
        try:
            script = redis_client.client(settings.REDIS_URL).register_script(_LEASE)
            held = bool(script(keys=[LEASE_KEY], args=[self.identity, LEASE_SECONDS * 1000]))
        except redis.RedisError:
            held = False
        if held != self.leading:
            log.info("beat %s %s the schedule", self.identity, "now runs" if held else "no longer runs")
            self.leading = held
        return held

    def tick(self, *args, **kwargs):
        if not settings.REDIS_URL or self._hold_lease():
            # Never sleep past a third of the lease, so it is renewed long before it lapses.
            return min(super().tick(*args, **kwargs), LEASE_SECONDS / 3)
        return LEASE_SECONDS / 3
