"""One long-lived event loop per process, for synchronous code that calls asyncio libraries.

Outside a running loop (gunicorn, Celery workers) async_to_sync makes a new event loop for every
call, and channels_redis a new connection pool for every loop: a group_send cost 2.4 ms of CPU
here, most of it connecting. On one loop that lives as long as the process the pool stays open
and the same send costs 0.2 ms.
"""

import asyncio
import os
import threading


class BackgroundLoop:
    def __init__(self):
        self.lock, self.loop, self.pid = threading.Lock(), None, None

    def run(self, coroutine, timeout):
        """Run `coroutine` on the loop and wait at most `timeout` seconds for its result."""
        with self.lock:
            if self.pid != os.getpid():  # first use, or a forked child: the parent's thread is not here
                self.loop = asyncio.new_event_loop()
                threading.Thread(target=self.loop.run_forever, name="background-loop", daemon=True).start()
                self.pid = os.getpid()
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        finally:
            future.cancel()  # a no-op once done; stops a send that outlived its caller's patience


background = BackgroundLoop()
