"""The Redis cache keeps one client per connection pool (gridgov/core/redis_cache.py) and behaves as
Django's: values set are read back, deleted ones are gone, sessions read through it."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from gridgov.core.redis_cache import ReusingRedisCache

URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")


def test_one_client_per_pool_and_the_values_of_django_redis_cache():  # type: ignore[no-untyped-def]
    cache = ReusingRedisCache(URL, {"KEY_PREFIX": f"t-{uuid.uuid4().hex}"})
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is first  # one server: one pool, one client
    cache.set("k", {"a": [1, 2]}, 30)
    assert cache.get("k") == {"a": [1, 2]}
    assert cache.add("k", "other", 30) is False
    cache.delete("k")
    assert cache.get("k") is None
    assert cache._cache.get_client(write=True) is first


def test_each_server_of_a_list_gets_its_own_client():  # type: ignore[no-untyped-def]
    cache = ReusingRedisCache(f"{URL},{URL}", {"KEY_PREFIX": f"t-{uuid.uuid4().hex}"})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client(write=False)  # the second server is the only reader
    assert reader is not writer and reader.connection_pool is not writer.connection_pool
    assert cache._cache.get_client(write=False) is reader
