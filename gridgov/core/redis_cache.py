"""Django's Redis cache, keeping one client per connection pool instead of building a new `redis.Redis`
on every cache call. Building one fills its table of ~170 response callbacks each time: with sessions
read from Redis (`cached_db`) that was a tenth of the CPU of the cheapest signed-in request (a profile
of `python -m bench.cpu --profile bare`, issue #8). The pools, the commands and the values are Django's."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # RedisCacheClient's private attributes (not in the type stubs)
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = django._client(connection_pool=self._pool_for(index))
        return client

    def _pool_for(self, index: int) -> Any:
        """Django's `_get_connection_pool` for a given server index (it draws the index itself)."""
        django: Any = self
        if index not in django._pools:
            django._pools[index] = django._pool_class.from_url(django._servers[index], **django._pool_options)
        return django._pools[index]


class ReusingRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient
