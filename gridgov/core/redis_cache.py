"""Django's Redis cache, keeping one client per connection pool instead of building a new `redis.Redis`
on every cache call. Building one fills its table of ~170 response callbacks each time: with sessions
read from Redis (`cached_db`) that was a tenth of the CPU of the cheapest signed-in request (a profile
of `python -m bench.cpu --profile bare`, issue #8). The pools, the commands and the values are Django's."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from prometheus_client import Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


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


# --- Degrade, don't fall over -------------------------------------------------------------------------------
# Policy (docs/deploy.md, "When Redis is down"): the cache holds nothing that is not also somewhere else or that
# cannot be lost for a while. So when Redis does not answer, each cache call acts as if the cache were empty and
# forgetful: reads miss, writes are dropped, `add` answers "added" and `incr` counts from one. Sessions are then
# read from the database (cached_db), throttles and the login lockout fail open, scopes and reference data are
# computed afresh. Each failure counts in gridgov_cache_errors_total and is logged (at most once a minute per
# process), and /ops/ready answers "degraded" (200), not "down": every app server shares the one Redis, and a load
# balancer that dropped them all would serve nobody.

CACHE_ERRORS = Counter("gridgov_cache_errors_total", "Cache calls that failed because Redis did not answer", ["op"])
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_log = logging.getLogger("gridgov.cache")
_last_logged = [0.0]
_log_lock = threading.Lock()


def _note_failure(op: str, exc: BaseException) -> None:
    CACHE_ERRORS.labels(op).inc()
    now = time.monotonic()
    with _log_lock:
        if now - _last_logged[0] < 60:
            return
        _last_logged[0] = now
    _log.warning("cache unavailable, degrading (%s failed: %s: %s)", op, type(exc).__name__, exc)


def _degrading(op: str, fallback: Callable[..., Any]) -> Callable[..., Any]:
    parent = getattr(ReusingRedisCache, op)

    def method(self: DegradingRedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return parent(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            _note_failure(op, exc)
            return fallback(*args, **kwargs)

    method.__name__ = op
    return method


def _default(key: Any, default: Any = None, version: Any = None) -> Any:
    return default


def _incr(key: Any, delta: int = 1, version: Any = None) -> int:
    return delta


class DegradingRedisCache(ReusingRedisCache):
    """ReusingRedisCache that acts as an empty, forgetful cache while Redis does not answer (policy above)."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        # Fail fast: a request waits at most this long on a Redis that does not answer.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
        params["OPTIONS"] = options
        super().__init__(server, params)

    get = _degrading("get", _default)
    set = _degrading("set", lambda *a, **k: None)
    add = _degrading("add", lambda *a, **k: True)
    touch = _degrading("touch", lambda *a, **k: False)
    delete = _degrading("delete", lambda *a, **k: False)
    incr = _degrading("incr", _incr)
    has_key = _degrading("has_key", lambda *a, **k: False)
    get_many = _degrading("get_many", lambda *a, **k: {})
    set_many = _degrading("set_many", lambda *a, **k: [])
    delete_many = _degrading("delete_many", lambda *a, **k: None)
    clear = _degrading("clear", lambda *a, **k: None)

    def is_available(self) -> bool:
        """Whether Redis answers now (for /ops/ready); never raises."""
        try:
            return bool(self._cache.get_client(write=True).ping())  # type: ignore[attr-defined]
        except UNAVAILABLE:
            return False
