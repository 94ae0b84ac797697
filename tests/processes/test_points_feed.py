"""Points for visits, end to end: visits recorded through the visits service, the points feed run the
way Celery beat runs it (the task the beat schedule names, not the award hook), and the points in the
ledger: once per visit however often the feed runs over it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from gridgov.visits import services as visits
from gridgov.workforce.models import PointEntry
from tests.visits.conftest import NOW

pytestmark = pytest.mark.django_db


def beat(monkeypatch: pytest.MonkeyPatch, at: dt.datetime) -> dict[str, int]:
    """One beat of `workforce-points-feed`: the task named in CELERY_BEAT_SCHEDULE, run as the worker
    runs it, at `at` (the task reads the clock; here the clock says `at`)."""
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["workforce-points-feed"]
    app.loader.import_default_modules()
    monkeypatch.setattr("gridgov.interfaces.jobs.tasks.now", lambda: at)
    report: dict[str, int] = app.tasks[entry["task"]].apply(args=entry["args"]).get()
    return report


def test_the_scheduled_feed_awards_points_for_recorded_visits_once(vw, rules, monkeypatch):
    w = vw.w
    home = visits.visit_record(actor=w.wang_fang, now=NOW, household_id=vw.a1.pk, kind="home").visit
    assert not PointEntry.dangerously_unscoped.exists()  # recording scores nothing by itself: the feed does

    first = beat(monkeypatch, NOW + dt.timedelta(minutes=10))
    assert first["visits"] == 1
    entry = PointEntry.dangerously_unscoped.get()
    assert (entry.worker_id, entry.kind, entry.points, entry.source_type, entry.source_id) == (
        w.wang_fang.pk, "visit", 2, "visit", str(home.pk))
    assert entry.month == dt.date(2026, 3, 1) and "入户走访" in entry.reason

    # A phone visit logged 20 minutes later by 钱多 (A2), and one 王芳 logs two days after it took place.
    phone = visits.visit_record(actor=w.qian_duo, now=NOW + dt.timedelta(minutes=20), household_id=vw.a2.pk,
                                kind="phone").visit
    late = visits.visit_record(actor=w.wang_fang, now=NOW + dt.timedelta(minutes=25), household_id=vw.a1_plain.pk,
                               kind="home", visited_at=NOW - dt.timedelta(days=2)).visit
    # The next beat reads from a little before the last one (overlap): the first visit is read again.
    second = beat(monkeypatch, NOW + dt.timedelta(minutes=30))
    third = beat(monkeypatch, NOW + dt.timedelta(minutes=40))
    assert second["visits"] == 3 and third["visits"] == 3  # written or found: each visit is read again
    rows = PointEntry.dangerously_unscoped.order_by("source_id")
    assert [(r.worker_id, r.source_id, r.points) for r in rows] == [
        (w.wang_fang.pk, str(home.pk), 2), (w.qian_duo.pk, str(phone.pk), 2), (w.wang_fang.pk, str(late.pk), 2)]
    assert PointEntry.dangerously_unscoped.get(source_id=str(late.pk)).at == NOW - dt.timedelta(days=2)

    # A beat reads from 30 minutes before the last one's end: later beats read nothing again.
    assert beat(monkeypatch, NOW + dt.timedelta(hours=3))["visits"] == 2  # the phone and late visits, again
    assert beat(monkeypatch, NOW + dt.timedelta(hours=3, minutes=10))["visits"] == 0
    assert PointEntry.dangerously_unscoped.count() == 3
