"""Reads from the Redis channel layer lose nothing when long-polls time out or sockets close.

channels_redis reads all of a process's messages through whichever receive() holds its lock, so a
cancelled receive could lose another channel's message: a push meant for a person's open tab.
"""

import asyncio
import contextlib
import random

import pytest
from channels_redis.core import RedisChannelLayer

from agentauth.lib.channel_reads import ChannelReader, SafeReads


@pytest.fixture
def layer(redis_url):
    return RedisChannelLayer(hosts=[redis_url], prefix="test-reads", capacity=5000)


async def test_a_wait_that_times_out_leaves_the_read_running_and_close_ends_it_by_message(layer):
    reader = ChannelReader(layer, await layer.new_channel())

    assert await reader.wait(0.05) is None
    reading = reader.reading
    assert not reading.done()  # still reading: a timeout cancelled nothing
    await reader.close()
    await asyncio.wait_for(asyncio.shield(reading), timeout=5)

    assert not reading.cancelled() and reading.result()["type"] == "reader.closed"


async def test_a_message_ends_the_wait(layer):
    channel = await layer.new_channel()
    reader = ChannelReader(layer, channel)
    await layer.send(channel, {"type": "approval.event"})

    assert (await reader.wait(5))["type"] == "approval.event"
    await reader.close()


async def test_a_consumer_cancelled_as_its_socket_closes_leaves_its_read_to_end_by_message(layer):
    reads = SafeReads(layer)
    channel = await layer.new_channel()
    receiving = asyncio.ensure_future(reads.receive(channel))
    await asyncio.sleep(0.05)
    read = reads._readers[channel].reading

    receiving.cancel()  # what Channels does when the socket closes
    with contextlib.suppress(asyncio.CancelledError):
        await receiving
    await asyncio.wait_for(asyncio.shield(read), timeout=5)

    assert not read.cancelled() and read.result()["type"] == "reader.closed"


class LongPoll:
    """A long-poll: a few waits that time out, then done."""

    def __init__(self, layer):
        self.layer = layer

    async def __call__(self):
        reader = ChannelReader(self.layer, await self.layer.new_channel())
        for _ in range(3):
            await reader.wait(random.random() * 0.004)
        await reader.close()


class ClosingSocket:
    """A consumer whose socket closes while it waits for a message (Channels cancels the read)."""

    def __init__(self, layer):
        self.reads = SafeReads(layer)

    async def __call__(self):
        receiving = asyncio.ensure_future(self.reads.receive(await self.reads.new_channel()))
        await asyncio.sleep(random.random() * 0.05)
        receiving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receiving


@pytest.mark.parametrize("coming_and_going", [LongPoll, ClosingSocket])
async def test_readers_coming_and_going_lose_no_message_of_other_channels_in_the_process(layer, coming_and_going):
    """A person's feed on one channel while long-polls or other sockets come and go, as in one
    server. With asyncio.wait_for() around receive() (the previous long-poll code), or a plain
    cancelled receive (a closing socket), this storm cancels reads mid-flight: the feed's Redis
    connection times out and messages are lost."""
    feed = await layer.new_channel()
    sent, received, stop = 1000, [], asyncio.Event()
    one_reader = coming_and_going(layer)

    async def person_feed():
        while len(received) < sent:
            received.append((await layer.receive(feed))["number"])

    async def others():
        while not stop.is_set():
            await one_reader()
            await asyncio.sleep(0.02)  # about 700 readers a second come and go in the process

    reading = asyncio.create_task(person_feed())
    churn = [asyncio.create_task(others()) for _ in range(20)]
    try:
        for number in range(sent):
            await layer.send(feed, {"type": "approval.event", "number": number})
            await asyncio.sleep(0.001)
        await asyncio.wait_for(reading, timeout=30)
    finally:
        stop.set()
        await asyncio.gather(*churn)

    assert sorted(received) == list(range(sent))
