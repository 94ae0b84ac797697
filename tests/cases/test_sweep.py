from __future__ import annotations

import datetime as dt

import pytest

from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.sweep import SweepReport, case_sweep
from gridgov.notify.models import Outbox

pytestmark = pytest.mark.django_db


def fresh(case: Case) -> Case:
    return Case.dangerously_unscoped.get(pk=case.pk)


def test_warns_once_before_the_deadline(kit):
    c = kit.to_state("acknowledged")
    soon = c.resolve_due - dt.timedelta(hours=3)
    first = case_sweep(now=soon)
    second = case_sweep(now=soon + dt.timedelta(minutes=5))
    assert (first.warned, second.warned) == (1, 0)
    warn = Outbox.objects.get(topic="case.deadline_warning")
    assert warn.payload["user_ids"] == [kit.world.liu_yang.pk]
    assert fresh(c).overdue is False


def test_unacknowledged_dispatch_is_urged_once(kit):
    c = kit.to_state("dispatched")
    late = c.respond_due + dt.timedelta(minutes=1)
    assert case_sweep(now=late).respond_urged == 1
    assert case_sweep(now=late).respond_urged == 0
    c = fresh(c)
    assert c.urge_count == 1
    ev = CaseEvent.dangerously_unscoped.get(case=c, action="urge")
    assert ev.actor is None and ev.actor_role == "system" and ev.detail["auto"] is True


def test_overdue_is_marked_urged_and_safe_to_run_twice(kit):
    c = kit.to_state("acknowledged")
    late = c.resolve_due + dt.timedelta(hours=1)
    r1 = case_sweep(now=late)
    r2 = case_sweep(now=late)
    assert (r1.overdue, r2.overdue) == (1, 0)
    c = fresh(c)
    assert c.overdue and c.urge_count == 1
    assert CaseEvent.dangerously_unscoped.filter(case=c, action="urge").count() == 1


def test_overdue_escalates_where_the_category_says(kit):
    w = kit.world
    c = kit.to_state("handling", category="public_order")  # escalate_when_overdue
    late = c.resolve_due + dt.timedelta(minutes=1)
    report = case_sweep(now=late)
    assert report.escalated == 1
    c = fresh(c)
    assert c.holder_unit == w.village and c.status == "handling"
    assert case_sweep(now=late).escalated == 0
    # Sanitation does not escalate by itself.
    d = kit.to_state("handling")
    case_sweep(now=d.resolve_due + dt.timedelta(minutes=1))
    assert fresh(d).holder_unit == w.grid_a1


def test_approved_extension_rearms_the_warning(kit):
    # Issue #15: an extension is asked for and approved before the deadline (tests/cases/test_extension_rules.py
    # shows both refused once it has passed); it moves the deadline and the warning fires again before the new one.
    w = kit.world
    c = kit.to_state("acknowledged")
    assert case_sweep(now=c.resolve_due - dt.timedelta(hours=2)).warned == 1
    kit.now = c.resolve_due - dt.timedelta(hours=1)
    kit.act(c, "request_extension", w.liu_yang, days=3, reason="材料未齐")
    c = kit.act(c, "approve_extension", w.zhang_wei)
    assert c.overdue is False and c.resolve_due > kit.now
    assert case_sweep(now=c.resolve_due - dt.timedelta(hours=2)).warned == 1


def test_closed_cases_are_left_alone(kit):
    c = kit.to_state("closed")
    far = c.created_at + dt.timedelta(days=90)
    report = case_sweep(now=far)
    assert (report.warned, report.overdue, report.respond_urged) == (0, 0, 0)


def test_resolved_cases_without_a_rating_are_archived_after_seven_working_days(kit):
    c = kit.to_state("resolved")
    assert case_sweep(now=c.resolved_at + dt.timedelta(days=3)).closed == 0
    later = c.resolved_at + dt.timedelta(days=12)
    assert case_sweep(now=later).closed == 1
    assert case_sweep(now=later).closed == 0
    c = fresh(c)
    assert c.status == "closed" and c.rating is None and c.result
    assert CaseEvent.dangerously_unscoped.get(case=c, action="close").actor is None


def test_the_command_runs_and_reports(kit):
    from django.core.management import call_command

    out = __import__("io").StringIO()
    call_command("case_sweep", stdout=out)
    assert "overdue=" in out.getvalue()


def _sweep_queries(now) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        case_sweep(now=now)
    return sum(1 for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")))


def test_the_sweep_is_set_based_its_queries_do_not_grow_with_the_cases(kit):
    """A batch of due cases costs the same statements as one: a year's backlog is not a loop of
    round trips per case (docs/benchmarks.md, the deadline sweep)."""
    counts = []
    for n in (1, 4):
        overdue = [kit.to_state("handling", category="public_order") for _ in range(n)]  # escalate too
        dispatched = [kit.to_state("dispatched") for _ in range(n)]
        resolved = [kit.to_state("resolved") for _ in range(n)]
        late = max(c.resolve_due for c in overdue + dispatched) + dt.timedelta(hours=1)
        late = max(late, max(c.resolved_at for c in resolved) + dt.timedelta(days=20))
        counts.append(_sweep_queries(late))
        for c in overdue:
            c = fresh(c)
            assert c.overdue and c.urge_count == 1 and c.holder_unit == kit.world.village
            assert list(CaseEvent.dangerously_unscoped.filter(case=c).order_by("seq").values_list("action",
                                                                                                  flat=True))[-2:] \
                == ["urge", "escalate"]
        assert all(fresh(c).respond_urged_for == c.respond_due for c in dispatched)
        assert all(fresh(c).status == "closed" for c in resolved)
        assert case_sweep(now=late) == case_sweep(now=late + dt.timedelta(minutes=1)) == SweepReport()
    # The first run also creates the county's urge-form counter: the second may only be cheaper.
    assert counts[1] <= counts[0], counts


def test_a_batch_writes_one_history_row_one_audit_row_and_numbers_each_urge(kit):
    from gridgov.audit.models import AuditEvent

    cases = [kit.to_state("acknowledged") for _ in range(3)]
    late = max(c.resolve_due for c in cases) + dt.timedelta(hours=1)
    assert case_sweep(now=late).overdue == 3
    numbers = set()
    for c in cases:
        ev = CaseEvent.dangerously_unscoped.get(case=c, action="urge")
        assert ev.actor is None and ev.actor_role == "system" and ev.detail["auto"] is True
        assert ev.seq == CaseEvent.dangerously_unscoped.filter(case=c).count()
        numbers.add(ev.detail["form_number"])
        assert AuditEvent.objects.filter(action="case.urge", object_id=str(c.pk)).count() == 1
        assert fresh(c).version == c.version + 1
    assert len(numbers) == 3 and all("-C" in n for n in numbers)
    rows = Outbox.objects.filter(topic="case.urge")
    assert rows.count() == 3 and all(r.payload["user_ids"] == [kit.world.liu_yang.pk] for r in rows)
