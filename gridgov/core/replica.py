"""Read replica: the read-only pages (dashboards, maps, searches) read from a streaming replica of PostgreSQL when
`DATABASE_REPLICA_URL` names one; everything else reads and writes the primary (`default`).

A read goes to the replica only when all of these hold:
- it runs inside `use_replica()` (the views marked `@replica_reads`, or a job that opts in);
- nothing was written in that block yet (a write pins the rest of the block to the primary, so a page that writes
  and reads back sees its own write);
- it is not inside a transaction on the primary (reads that decide a write must see the primary's rows);
- the request is not pinned: a request with another method than GET/HEAD/OPTIONS that wrote something sets a
  short-lived cookie (GRIDGOV_REPLICA_PIN_SECONDS, 30 s) and the user's following pages read the primary, so a user
  never misses what they just saved while the replica catches up.
Without a replica every read goes to `default`; the router then changes nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
PRIMARY = "default"
PIN_COOKIE = "gg_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Written on every page by the framework (session touch), not by the user: never pins.
_BOOKKEEPING_APPS = frozenset({"sessions"})

V = TypeVar("V", bound=Callable[..., HttpResponse])


@dataclass
class _Block:
    wrote: bool = False


@dataclass
class _Request:
    pinned: bool = False
    wrote: bool = False


_block: contextvars.ContextVar[_Block | None] = contextvars.ContextVar("gridgov_replica_block", default=None)
_request: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("gridgov_replica_request", default=None)


def configured() -> bool:
    return REPLICA in connections.settings


@contextlib.contextmanager
def use_replica() -> Iterator[None]:
    """Reads inside go to the replica (when there is one and the rules above allow)."""
    request = _request.get()
    if request is not None and request.pinned:
        yield
        return
    token = _block.set(_Block())
    try:
        yield
    finally:
        _block.reset(token)


def replica_reads(view: V) -> V:
    """Mark a read-only view: its reads may come from the replica."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with use_replica():
            return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        block = _block.get()
        if block is None or block.wrote or not configured():
            return None
        if connections[PRIMARY].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model: Any, **hints: Any) -> str:
        if model._meta.app_label not in _BOOKKEEPING_APPS:
            block, request = _block.get(), _request.get()
            if block is not None:
                block.wrote = True
            if request is not None:
                request.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # the replica gets its schema by replication, never by `migrate`


class ReplicaPinMiddleware:
    """Reads the pin cookie, and sets it after a request that wrote with a non-safe method."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not configured():
            return self.get_response(request)
        state = _Request(pinned=request.COOKIES.get(PIN_COOKIE) == "1")
        token = _request.set(state)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if state.wrote and request.method not in SAFE_METHODS:
            response.set_cookie(PIN_COOKIE, "1", max_age=settings.GRIDGOV_REPLICA_PIN_SECONDS, httponly=True,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response
