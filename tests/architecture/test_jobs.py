"""Every periodic job in the beat schedule names a task that exists."""

from __future__ import annotations

from django.conf import settings


def test_beat_schedule_names_registered_tasks():
    from config.celery import app

    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule == settings.CELERY_BEAT_SCHEDULE
    assert {"audit-seal", "cases-sweep", "notify-deliver", "accounts-disable-idle"} <= set(schedule)
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
