"""Reading the channel layer without ever cancelling a receive().

channels_redis reads all of a process's messages through whichever receive() holds its lock at
the moment. Cancelling that receive mid-read drops the message in flight, and the message can
belong to any channel of the process: another person's open tab (django/channels#1683). Both of
our readers used to cancel: a long-poll timing out every few seconds (about 2 pushes in 1,000 lost
under load), and Channels itself whenever a socket closes.

Here a read, once started, runs until a message arrives; a reader that is done sends itself a
message to end it.
"""

import asyncio
import contextlib

_closing = set()  # reads being ended in the background (asyncio keeps only weak references)


class ChannelReader:
    """The reads of one channel, one at a time, none ever cancelled."""

    STOP_GRACE_SECONDS = 2.0

    def __init__(self, layer, channel):
        self.layer, self.channel, self.reading = layer, channel, None

    def _read(self):
        if self.reading is None:
            self.reading = asyncio.ensure_future(self.layer.receive(self.channel))
        return self.reading

    async def receive(self):
        """The next message. A caller cancelled meanwhile leaves the read running for close()."""
        reading = self._read()
        try:
            return await asyncio.shield(reading)
        finally:
            if reading.done():  # a message or a failure: the next call starts a new read
                self.reading = None

    async def wait(self, timeout):
        """Return when a message arrives or `timeout` seconds pass; True if one arrived."""
        done, _ = await asyncio.wait({self._read()}, timeout=timeout)
        if not done:
            return False
        received, self.reading = self.reading, None
        received.result()  # a failed read (Redis gone) raises here, as the awaited call would
        return True

    async def close(self):
        """End a read in progress by sending it a message; cancel only if none arrives in time."""
        reading, self.reading = self.reading, None
        if reading is None:
            return
        with contextlib.suppress(Exception):  # Redis gone: nothing is in flight to lose
            await self.layer.send(self.channel, {"type": "reader.closed"})
            await asyncio.wait({reading}, timeout=self.STOP_GRACE_SECONDS)
        if not reading.done():
            reading.cancel()  # the process is far behind on its inbox: the lesser evil
        elif not reading.cancelled():
            reading.exception()  # seen, so asyncio does not log it: the read is over anyway


class SafeReads:
    """A consumer's channel layer whose receive() goes through a ChannelReader, so the socket
    closing (Channels cancels the consumer's receive) ends the read by message instead."""

    def __init__(self, layer):
        self._layer, self._readers = layer, {}

    def __getattr__(self, name):
        return getattr(self._layer, name)

    async def receive(self, channel):
        reader = self._readers.setdefault(channel, ChannelReader(self._layer, channel))
        try:
            return await reader.receive()
        except asyncio.CancelledError:
            del self._readers[channel]
            closing = asyncio.ensure_future(reader.close())
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)
            raise
