"""Kept figures are computed by one request at a time: fresh ones are served, stale ones are served while
one request recomputes, and a request that finds none while another computes waits for that one."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from gridgov.insights import board


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "kept-test"}}
    cache.clear()
    yield
    cache.clear()


class Counter:
    def __init__(self, value: str = "v") -> None:
        self.calls = 0
        self.value = value

    def __call__(self) -> str:
        self.calls += 1
        return f"{self.value}{self.calls}"


def test_fresh_figures_are_computed_once():
    compute = Counter()
    assert board.kept("k", 60, compute) == "v1"
    assert board.kept("k", 60, compute) == "v1"
    assert compute.calls == 1
    assert cache.get("k:computing") is None  # the lock is let go


def test_stale_figures_are_served_while_another_request_recomputes(monkeypatch):
    compute = Counter()
    board.kept("k", 60, compute)
    cache.set("k", ("old", time.time() - 1), 300)  # expired a second ago, within the grace
    cache.add("k:computing", 1)  # another request is recomputing
    assert board.kept("k", 60, compute) == "old"
    assert compute.calls == 1
    cache.delete("k:computing")  # that request finished without storing: this one recomputes
    assert board.kept("k", 60, compute) == "v2"
    assert board.kept("k", 60, compute) == "v2"


def test_without_kept_figures_a_request_waits_for_the_one_computing():
    compute = Counter()
    cache.add("k:computing", 1)
    ticks = []

    def sleep(_: float) -> None:
        ticks.append(1)
        if len(ticks) == 3:  # the other request stores its figures
            cache.set("k", ("theirs", time.time() + 60), 60)

    assert board.kept("k", 60, compute, sleep=sleep) == "theirs"
    assert compute.calls == 0 and len(ticks) == 3


def test_a_request_stops_waiting_and_computes_itself():
    compute = Counter()
    cache.add("k:computing", 1)
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    assert board.kept("k", 60, compute, clock=clock, sleep=sleep) == "v1"
    assert compute.calls == 1 and now[0] >= board.WAIT_FOR_OTHER_SECONDS


def test_a_failed_computation_lets_go_of_the_lock():
    def broken() -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        board.kept("k", 60, broken)
    assert cache.get("k:computing") is None
    assert board.kept("k", 60, Counter()) == "v1"
