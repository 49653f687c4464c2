"""Reading the channel layer without ever cancelling a receive().

channels_redis reads all of a process's messages through whichever receive() holds its lock at
the moment. Cancelling that receive mid-read drops the message in flight, and the message can
belong to any channel of the process: another person's open tab (django/channels#1683). Both of
our readers used to cancel: a long-poll timing out every few seconds (about 2 pushes in 1,000 lost
under load), and Channels itself whenever a socket closes.

Here a read, once started, runs until a message arrives; a reader that is done sends itself a
message to end it, and the read finishes in the background.
"""

import asyncio

_background = set()


class ChannelReader:
    """The reads of one channel, one at a time, none ever cancelled."""

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
        """The next message, or None when `timeout` seconds pass first."""
        done, _ = await asyncio.wait({self._read()}, timeout=timeout)
        if not done:
            return None
        received, self.reading = self.reading, None
        return received.result()  # a failed read (Redis gone) raises here, as the awaited call would

    async def close(self):
        """End a read in progress by sending it a message; it finishes in the background.

        Never by a deadline: under load the message can take seconds to arrive, and cancelling
        then would lose what is in flight. Only when the message cannot be sent (Redis gone, the
        process's inbox full) is the read cancelled, as the lesser evil."""
        reading, self.reading = self.reading, None
        if reading is None:
            return
        _keep(reading)
        try:
            await self.layer.send(self.channel, {"type": "reader.closed"})
        except Exception:
            reading.cancel()


def _keep(task):
    """Hold a background task until it is done (asyncio keeps only weak references), and read its
    outcome so asyncio does not log it: whatever ends it, its reader is gone."""
    _background.add(task)
    task.add_done_callback(_done)


def _done(task):
    _background.discard(task)
    if not task.cancelled():
        task.exception()


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
            _keep(asyncio.ensure_future(reader.close()))
            raise
