"""Long-polls wait on the Redis channel layer without ever cancelling a receive().

channels_redis reads all of a process's messages through whichever receive() holds its lock, so a
cancelled receive can lose another channel's message: a push meant for a person's open tab.
"""

import asyncio
import random

import pytest
from channels_redis.core import RedisChannelLayer

from approvals.api import Listener


@pytest.fixture
def layer(redis_url):
    return RedisChannelLayer(hosts=[redis_url], prefix="test-listener")


async def test_a_wait_that_times_out_leaves_the_receive_running_and_close_ends_it_by_message(layer):
    listener = Listener(layer, await layer.new_channel())

    assert await listener.wait(0.05) is False
    receiving = listener.receiving
    assert not receiving.done()  # still reading: a timeout cancelled nothing
    await listener.close()

    assert receiving.done() and not receiving.cancelled()
    assert receiving.result()["type"] == "listener.stop"


async def test_a_message_ends_the_wait(layer):
    channel = await layer.new_channel()
    listener = Listener(layer, channel)
    await layer.send(channel, {"type": "approval.event"})

    assert await listener.wait(5) is True
    await listener.close()


async def test_long_polls_timing_out_lose_no_message_of_other_channels_in_the_process(redis_url):
    """A person's feed on one channel while long-polls come and go on others, as in one server.
    With wait_for() around receive() (the previous code) the storm cancels reads mid-flight: the
    feed's connection times out and messages are lost."""
    layer = RedisChannelLayer(hosts=[redis_url], prefix="test-listener-storm", capacity=5000)
    feed = await layer.new_channel()
    sent, received, stop = 1000, [], asyncio.Event()

    async def person_feed():
        while len(received) < sent:
            received.append((await layer.receive(feed))["number"])

    async def long_polls():
        while not stop.is_set():
            listener = Listener(layer, await layer.new_channel())
            for _ in range(3):
                await listener.wait(random.random() * 0.004)
            await listener.close()

    reading = asyncio.create_task(person_feed())
    polls = [asyncio.create_task(long_polls()) for _ in range(20)]
    try:
        for number in range(sent):
            await layer.send(feed, {"type": "approval.event", "number": number})
            await asyncio.sleep(0.001)
        await asyncio.wait_for(reading, timeout=30)
    finally:
        stop.set()
        await asyncio.gather(*polls)

    assert sorted(received) == list(range(sent))
