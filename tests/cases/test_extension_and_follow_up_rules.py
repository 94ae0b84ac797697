"""Two rules of issue #15 that live in the transition table's guards (cases/states.py): no extension
once the deadline has passed, and a follow-up (回访) after the system archived a case, within the
policy window. Fixed clock throughout (the kit's `now`)."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.public.models import FollowUp
from gridgov.cases.public.services import follow_up_record
from gridgov.cases.states import follow_up_window_days
from gridgov.cases.sweep import case_sweep
from gridgov.cases.transitions import allowed_actions
from gridgov.core.errors import Conflict, ValidationFailed


def _codes(case: Case, actor, now) -> set[str]:
    return {a.code for a in allowed_actions(case=case, actor=actor, now=now)}


def test_an_extension_cannot_be_requested_once_the_deadline_has_passed(kit):
    w = kit.world
    c = kit.to_state("acknowledged")
    kit.now = c.resolve_due + dt.timedelta(minutes=1)
    assert "request_extension" not in _codes(c, w.liu_yang, kit.now)
    with pytest.raises(ValidationFailed) as exc:
        kit.act(c, "request_extension", w.liu_yang, days=3, reason="材料未齐")
    assert exc.value.message == "办理期限已过，不能再申请延时，请尽快办结。"
    c = Case.dangerously_unscoped.get(pk=c.pk)
    assert c.extension_days_requested is None and not CaseEvent.dangerously_unscoped.filter(case=c,
                                                                                            action="request_extension")


def test_an_extension_asked_in_time_cannot_be_approved_after_the_deadline(kit):
    w = kit.world
    c = kit.to_state("acknowledged")
    kit.now = c.resolve_due - dt.timedelta(hours=1)
    c = kit.act(c, "request_extension", w.liu_yang, days=3, reason="材料未齐")
    assert "approve_extension" in _codes(c, w.zhang_wei, kit.now)
    due = c.resolve_due
    kit.now = due + dt.timedelta(minutes=5)
    assert "approve_extension" not in _codes(c, w.zhang_wei, kit.now)
    assert "deny_extension" in _codes(c, w.zhang_wei, kit.now)  # the request can still be answered no
    with pytest.raises(ValidationFailed) as exc:
        kit.act(c, "approve_extension", w.zhang_wei)
    assert "办理期限已过" in exc.value.message
    c = Case.dangerously_unscoped.get(pk=c.pk)
    assert c.resolve_due == due and c.extension_count == 0 and c.extension_days_requested == 3


def _auto_closed(kit) -> Case:
    c = kit.to_state("resolved")
    later = c.resolved_at + dt.timedelta(days=12)
    assert case_sweep(now=later).closed == 1
    kit.now = later
    c = Case.dangerously_unscoped.get(pk=c.pk)
    assert c.status == "closed" and c.rating is None
    return c


def test_a_follow_up_after_auto_close_rates_the_case_within_the_window(kit):
    w = kit.world
    c = _auto_closed(kit)
    closed_at = c.closed_at
    kit.now = closed_at + dt.timedelta(days=follow_up_window_days() - 1)
    assert {"confirm", "reopen"} <= _codes(c, w.zhang_wei, kit.now)
    follow = follow_up_record(actor=w.zhang_wei, now=kit.now, case_id=c.pk, method="phone", outcome="satisfied",
                              comment="电话回访，群众满意")
    c = Case.dangerously_unscoped.get(pk=c.pk)
    assert c.status == "closed" and c.rating == 5 and c.closed_at == closed_at
    assert follow.event.action == "confirm" and follow.event.from_status == "closed"


def test_a_follow_up_after_auto_close_can_reopen_within_the_window(kit):
    w = kit.world
    c = _auto_closed(kit)
    kit.now = c.closed_at + dt.timedelta(days=2)
    follow_up_record(actor=w.zhang_wei, now=kit.now, case_id=c.pk, method="visit", outcome="not_solved",
                     comment="垃圾又堆起来了")
    c = Case.dangerously_unscoped.get(pk=c.pk)
    assert c.status == "handling" and c.closed_at is None and c.resolved_at is None
    assert CaseEvent.dangerously_unscoped.filter(case=c, action="reopen", from_status="closed").exists()


def test_no_follow_up_after_the_window_or_on_a_case_closed_by_a_person(kit):
    w = kit.world
    c = _auto_closed(kit)
    kit.now = c.closed_at + dt.timedelta(days=follow_up_window_days() + 1)
    assert not {"confirm", "reopen"} & _codes(c, w.zhang_wei, kit.now)
    with pytest.raises(Conflict) as exc:
        follow_up_record(actor=w.zhang_wei, now=kit.now, case_id=c.pk, method="phone", outcome="satisfied")
    assert f"归档已超过 {follow_up_window_days()} 天" in exc.value.message
    rated = kit.to_state("closed")  # accepted and rated: nothing left to follow up
    with pytest.raises(Conflict):
        follow_up_record(actor=w.zhang_wei, now=kit.tick(), case_id=rated.pk, method="phone", outcome="satisfied")
    assert FollowUp.dangerously_unscoped.count() == 0


def test_the_window_is_a_setting(kit, settings):
    w = kit.world
    c = _auto_closed(kit)
    settings.GRIDGOV_FOLLOW_UP_AFTER_AUTO_CLOSE_DAYS = 1
    kit.now = c.closed_at + dt.timedelta(days=2)
    with pytest.raises(Conflict):
        follow_up_record(actor=w.zhang_wei, now=kit.now, case_id=c.pk, method="phone", outcome="satisfied")
    settings.GRIDGOV_FOLLOW_UP_AFTER_AUTO_CLOSE_DAYS = 3
    follow_up_record(actor=w.zhang_wei, now=kit.now, case_id=c.pk, method="phone", outcome="satisfied")
    assert Case.dangerously_unscoped.get(pk=c.pk).rating == 5


def test_a_resident_cannot_answer_after_auto_close(kit):
    from gridgov.cases.public.services import reporter_rate

    c = _auto_closed(kit)
    with pytest.raises(Conflict):
        reporter_rate(now=kit.now + dt.timedelta(days=1), code=c.tracking_token, level="satisfied")
