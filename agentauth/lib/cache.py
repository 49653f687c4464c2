"""Django's Redis cache backend, keeping one client per connection pool.

Django wraps its pooled connections in a new `redis.Redis` on every cache call. On the API's hot
path (one revocation lookup per request) building that client cost as much CPU as the round trip
itself. A client is thread-safe and holds nothing but the pool Django already shares.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ClientPerPool(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool
