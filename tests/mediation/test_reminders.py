"""Deadline reminders (调解期限提醒): the presiding mediator hears of a mediation three working days
before its deadline and once it has passed; once per deadline, never for a concluded case, again after
the one extension moves the deadline.

Registered at T0 (Monday 2026-03-02, 17:00 in 吴城乡), a mediation is due on Wednesday 2026-04-01 at
17:00. Three working days before it (Monday 30, Tuesday 31 and Wednesday 1 left) is Friday 2026-03-27."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from gridgov.core.clock import LOCAL_TZ
from gridgov.mediation.reminders import TOPIC_DUE_SOON, TOPIC_OVERDUE, ReminderReport, mediation_deadline_remind
from gridgov.notify.models import InboxMessage, Outbox
from tests.mediation.conftest import act, in_state, register

pytestmark = pytest.mark.django_db

DUE = dt.datetime(2026, 4, 1, 17, 0, tzinfo=LOCAL_TZ)
THURSDAY_BEFORE = dt.datetime(2026, 3, 26, 9, 0, tzinfo=LOCAL_TZ)  # four working days left
FRIDAY_BEFORE = dt.datetime(2026, 3, 27, 9, 0, tzinfo=LOCAL_TZ)  # three working days left


def run(moment: dt.datetime, captured) -> ReminderReport:  # type: ignore[no-untyped-def]
    with captured(execute=True):  # the in-app messages are written right after commit
        return mediation_deadline_remind(now=moment)


def messages(user, topic: str) -> list[InboxMessage]:  # type: ignore[no-untyped-def]
    return list(InboxMessage.objects.filter(user=user, topic=topic))


def test_the_deadline_is_thirty_days_after_registration(mworld):
    assert register(mworld).due_at == DUE


def test_three_working_days_before_the_deadline_the_presiding_mediator_is_reminded_once(
        mworld, django_capture_on_commit_callbacks):
    m = in_state(mworld, "mediating")
    assert run(THURSDAY_BEFORE, django_capture_on_commit_callbacks) == ReminderReport()
    assert not Outbox.objects.filter(topic=TOPIC_DUE_SOON).exists()

    assert run(FRIDAY_BEFORE, django_capture_on_commit_callbacks) == ReminderReport(due_soon=1)
    [msg] = messages(mworld.xu, TOPIC_DUE_SOON)
    assert msg.title == "调解即将到期：宅基地边界纠纷"
    assert m.number in msg.body and "2026年04月01日" in msg.body and "还有 3 个工作日" in msg.body
    assert msg.link == f"/mediation/{m.pk}/"

    # A rerun at the same moment, a second beat later the same day, the weekend: nothing more.
    for moment in (FRIDAY_BEFORE, FRIDAY_BEFORE + dt.timedelta(hours=2), DUE - dt.timedelta(hours=1)):
        assert run(moment, django_capture_on_commit_callbacks) == ReminderReport()
    assert Outbox.objects.filter(topic=TOPIC_DUE_SOON).count() == 1
    assert len(messages(mworld.xu, TOPIC_DUE_SOON)) == 1
    # Only the presiding mediator: not the township office above the committee, not the grid worker.
    assert InboxMessage.objects.filter(topic=TOPIC_DUE_SOON).count() == 1


def test_on_the_day_the_deadline_passes_the_mediator_is_told_once(mworld, django_capture_on_commit_callbacks):
    m = in_state(mworld, "mediating")
    assert run(DUE - dt.timedelta(minutes=1), django_capture_on_commit_callbacks).overdue == 0
    assert run(DUE + dt.timedelta(minutes=5), django_capture_on_commit_callbacks) == ReminderReport(overdue=1)
    [msg] = messages(mworld.xu, TOPIC_OVERDUE)
    assert msg.title == "调解已超期：宅基地边界纠纷" and m.number in msg.body
    assert "可延长一次期限" in msg.body
    for moment in (DUE + dt.timedelta(minutes=15), DUE + dt.timedelta(days=3)):
        assert run(moment, django_capture_on_commit_callbacks) == ReminderReport()
    assert Outbox.objects.filter(topic=TOPIC_OVERDUE).count() == 1
    assert len(messages(mworld.xu, TOPIC_OVERDUE)) == 1


def test_a_job_that_first_runs_after_the_deadline_sends_only_the_overdue_message(
        mworld, django_capture_on_commit_callbacks):
    in_state(mworld, "accepted")
    assert run(DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks) == ReminderReport(overdue=1)
    assert not Outbox.objects.filter(topic=TOPIC_DUE_SOON).exists()


@pytest.mark.parametrize("state", ["agreed", "failed", "terminated", "following_up", "closed"])
def test_no_reminder_for_a_concluded_mediation(mworld, django_capture_on_commit_callbacks, state):
    in_state(mworld, state)
    for moment in (FRIDAY_BEFORE, DUE + dt.timedelta(minutes=5), DUE + dt.timedelta(days=40)):
        assert run(moment, django_capture_on_commit_callbacks) == ReminderReport()
    assert not Outbox.objects.filter(topic__startswith="mediation.").exists()
    assert not InboxMessage.objects.filter(topic__startswith="mediation.").exists()


def test_the_extension_moves_both_reminders_to_the_new_deadline(mworld, django_capture_on_commit_callbacks):
    m = in_state(mworld, "mediating")
    m = act(mworld, m, "extend", days=10)  # due Saturday 2026-04-11 17:00
    new_due = DUE + dt.timedelta(days=10)
    assert m.due_at == new_due
    # The old deadline's reminders never come.
    for moment in (FRIDAY_BEFORE, DUE + dt.timedelta(minutes=5)):
        assert run(moment, django_capture_on_commit_callbacks) == ReminderReport()
    # Three working days before Saturday the 11th: Wednesday 8, Thursday 9, Friday 10 left → Tuesday the 7th.
    assert run(dt.datetime(2026, 4, 6, 9, 0, tzinfo=LOCAL_TZ), django_capture_on_commit_callbacks) == ReminderReport()
    tuesday = dt.datetime(2026, 4, 7, 9, 0, tzinfo=LOCAL_TZ)
    assert run(tuesday, django_capture_on_commit_callbacks) == ReminderReport(due_soon=1)
    assert run(new_due + dt.timedelta(minutes=5), django_capture_on_commit_callbacks) == ReminderReport(overdue=1)
    [msg] = messages(mworld.xu, TOPIC_OVERDUE)
    assert "2026年04月11日" in msg.body and "已延长过一次" in msg.body


def test_an_extension_after_the_first_reminder_brings_a_reminder_for_the_new_deadline(
        mworld, django_capture_on_commit_callbacks):
    m = in_state(mworld, "mediating")
    assert run(FRIDAY_BEFORE, django_capture_on_commit_callbacks).due_soon == 1
    act(mworld, m, "extend", days=5, now=FRIDAY_BEFORE + dt.timedelta(hours=1))  # due Monday 2026-04-06 17:00
    # Monday the 6th is 清明 (a day off): on Monday 30 four working days remain (31, 1, 2, 3), on
    # Tuesday 31 three, and the reminder of the new deadline goes out then.
    assert run(dt.datetime(2026, 3, 30, 9, 0, tzinfo=LOCAL_TZ), django_capture_on_commit_callbacks) == ReminderReport()
    assert run(dt.datetime(2026, 3, 31, 9, 0, tzinfo=LOCAL_TZ), django_capture_on_commit_callbacks).due_soon == 1
    assert len(messages(mworld.xu, TOPIC_DUE_SOON)) == 2
    # The first deadline passes without an overdue message: it is no longer the deadline.
    assert run(DUE + dt.timedelta(hours=1), django_capture_on_commit_callbacks) == ReminderReport()


def test_a_mediation_nobody_presides_goes_to_the_committees_own_handlers(mworld, django_capture_on_commit_callbacks):
    register(mworld, presiding=None)
    assert run(FRIDAY_BEFORE, django_capture_on_commit_callbacks).due_soon == 1
    told = set(InboxMessage.objects.filter(topic=TOPIC_DUE_SOON).values_list("user_id", flat=True))
    # The township's mediator and the township office hold mediation.handle at the committee's unit;
    # the county office above it and the sibling township's mediator are not told.
    assert told == {mworld.xu.pk, mworld.zhang_wei.pk}


def test_the_job_runs_on_the_beat_in_the_sweep_queue():
    from config.celery import app
    from config.jobs import JOB_BY_NAME
    from gridgov.interfaces.jobs.tasks import mediation_deadline_remind_task

    entry = settings.CELERY_BEAT_SCHEDULE["mediation-deadline-remind"]
    assert entry["args"] == ("mediation-deadline-remind",) and entry["options"]["queue"] == "sweep"
    assert JOB_BY_NAME["mediation-deadline-remind"].func == "gridgov.interfaces.jobs.periodic:mediation_remind"
    assert app.amqp.router.route({}, mediation_deadline_remind_task.name)["queue"].name == "sweep"


def test_a_second_beat_that_missed_the_first_ones_mark_still_sends_nothing_twice(
        mworld, django_capture_on_commit_callbacks):
    """Two beats at once (or a crash after the message was queued): the case row's mark is not there,
    but the outbox key of this reminder for this deadline is, so the message is kept once."""
    from gridgov.mediation.models import MediationCase

    m = in_state(mworld, "mediating")
    assert run(FRIDAY_BEFORE, django_capture_on_commit_callbacks).due_soon == 1
    assert run(DUE + dt.timedelta(minutes=5), django_capture_on_commit_callbacks).overdue == 1
    MediationCase.dangerously_unscoped.filter(pk=m.pk).update(due_soon_reminded_for=None, overdue_reminded_for=None)
    assert run(FRIDAY_BEFORE + dt.timedelta(hours=1), django_capture_on_commit_callbacks).due_soon == 1
    assert run(DUE + dt.timedelta(minutes=10), django_capture_on_commit_callbacks).overdue == 1
    assert Outbox.objects.filter(topic__startswith="mediation.").count() == 2
    assert len(messages(mworld.xu, TOPIC_DUE_SOON)) == 1 and len(messages(mworld.xu, TOPIC_OVERDUE)) == 1
