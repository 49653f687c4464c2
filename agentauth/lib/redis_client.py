"""The request path's own Redis client (rate limits, activity counters): one per process and URL,
with short timeouts, because each caller fails open or falls back on its own when Redis is slow."""

import functools

import redis


@functools.cache
def client(url):
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5, decode_responses=True)
