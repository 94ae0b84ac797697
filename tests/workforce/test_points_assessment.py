"""Points: rules as data (audited, nearest unit wins), the idempotent hook with monthly caps, the
append-only ledger with manual entries that need a reason; the monthly assessment against values
computed by hand; case facts feeding the hook."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.workforce import assessment, services
from gridgov.workforce.models import Assessment, PointEntry
from tests.workforce.conftest import DAY, issue
from tests.world import T0

pytestmark = pytest.mark.django_db


def award(w, kind, source, at=T0):  # type: ignore[no-untyped-def]
    return services.points_award_event(worker_id=w.pk, kind=kind, source_type="test", source_id=str(source),
                                       at=at, now=at)


def test_rule_edits_are_audited_and_only_offices_edit(world, rules):
    events = AuditEvent.objects.filter(action="points.rule_save")
    assert events.count() == 6
    services.rule_save(actor=world.zhang_wei, now=T0, unit_id=world.township.pk, kind="visit", points=3,
                       monthly_cap=30)
    last = AuditEvent.objects.filter(action="points.rule_save").latest("id")
    assert last.detail["old"] is None and last.detail["new"]["points"] == 3
    with pytest.raises(PermissionDenied):
        services.rule_save(actor=world.li_qiang, now=T0, unit_id=world.village.pk, kind="visit", points=9)
    with pytest.raises(NotFound):
        services.rule_save(actor=world.sun_li, now=T0, unit_id=world.township.pk, kind="visit", points=9)
    for bad in ({"points": 0}, {"points": "x"}, {"points": 500}, {"points": 2, "monthly_cap": -1}):
        with pytest.raises(ValidationFailed):
            services.rule_save(actor=world.zhang_wei, now=T0, unit_id=world.township.pk, kind="visit", **bad)
    # The township's own rule now overrides the county's for its workers.
    assert award(world.wang_fang, "visit", 1).points == 3


def test_hook_is_idempotent_and_caps_the_month(world, rules):
    # visit: +2, cap 60 → the 30th visit fills the cap, the 31st gets a 0-point entry saying so.
    for i in range(31):
        award(world.wang_fang, "visit", i, at=T0 + dt.timedelta(hours=i))
    again = award(world.wang_fang, "visit", 0)
    assert PointEntry.dangerously_unscoped.filter(worker=world.wang_fang).count() == 31
    assert again.points == 2
    rows = list(PointEntry.dangerously_unscoped.filter(worker=world.wang_fang).order_by("at"))
    assert sum(r.points for r in rows) == 60
    assert rows[-1].points == 0 and "已达上限" in rows[-1].reason
    # A new month starts a new cap.
    assert award(world.wang_fang, "visit", 99, at=dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)).points == 2


def test_deductions_cap_too_and_non_workers_earn_nothing(world, rules):
    # case_overdue: -2, cap 20 → at most -20 a month
    for i in range(12):
        award(world.wang_fang, "case_overdue", i)
    assert sum(PointEntry.dangerously_unscoped.filter(worker=world.wang_fang).values_list("points", flat=True)) == -20
    assert award(world.zhang_wei, "visit", 1) is None  # the township office is not assessed
    assert award(world.wang_fang, "case_reported_resolved", 1).points == 2


def test_ledger_is_append_only_and_manual_entries_need_a_reason(world, rules):
    entry = award(world.wang_fang, "visit", 1)
    with pytest.raises(RuntimeError):
        entry.points = 100
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    with pytest.raises(ValidationFailed):
        services.points_adjust(actor=world.zhang_wei, now=T0, worker_id=world.wang_fang.pk, points=5, reason="")
    with pytest.raises(PermissionDenied):  # the village secretary assesses but does not award
        services.points_adjust(actor=world.li_qiang, now=T0, worker_id=world.wang_fang.pk, points=5,
                               reason="协助处置火情")
    with pytest.raises(NotFound):
        services.points_adjust(actor=world.sun_li, now=T0, worker_id=world.wang_fang.pk, points=5, reason="外乡加分")
    fix = services.points_adjust(actor=world.zhang_wei, now=T0, worker_id=world.wang_fang.pk, points=-2,
                                 reason="走访记录重复，更正", corrects_id=entry.pk)
    assert fix.corrects == entry and fix.source == "manual"
    event = AuditEvent.objects.get(action="points.adjust")
    assert event.detail["points"] == -2 and event.detail["corrects"] == entry.pk
    assert PointEntry.dangerously_unscoped.get(pk=entry.pk).points == 2  # the original stays as it was


def test_assessment_by_hand(world, rules):
    """March 2026 at 吴城乡, defaults: base 60, weight 20, floor 75, commend 3.
    王芳: visits 3×2 = 6, one duty item confirmed on time (+3) → points 9, rate 1/1 → 60+9+20 = 89.
    钱多: one named item overdue (-1), a manual -5 → points -6, rate 0/1 → 60-6+0 = 54 (below floor).
    赵磊 (grid head of A1): nothing at all → 60+0+20 (nothing due counts as 1) = 80."""
    for i in range(3):
        award(world.wang_fang, "visit", i)
    first = issue(world, to_workers=[world.wang_fang])
    issue(world, to_workers=[world.qian_duo], title="清理河道")
    services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=first.items.get().pk, text="已核查完毕。")
    services.duty_item_confirm(actor=world.zhang_wei, now=T0 + 4 * DAY, item_id=first.items.get().pk)
    services.duty_sweep(now=T0 + 4 * DAY)
    services.points_adjust(actor=world.zhang_wei, now=T0 + 5 * DAY, worker_id=world.qian_duo.pk, points=-5,
                           reason="网格例会无故缺席")
    result = assessment.compute(world.township, dt.date(2026, 3, 1))
    by_name = {r.name: r for r in result.workers}
    assert (by_name["王芳"].points, by_name["王芳"].score, by_name["王芳"].rate_text) == (9, Decimal("89.0"), "100%")
    assert (by_name["钱多"].points, by_name["钱多"].score, by_name["钱多"].rate_text) == (-6, Decimal("54.0"), "0%")
    assert (by_name["赵磊"].score, by_name["赵磊"].rate_text) == (Decimal("80.0"), "—")
    assert [r.name for r in result.workers] == ["王芳", "赵磊", "钱多"]
    assert [r.rank for r in result.workers] == [1, 2, 3]
    assert [r.name for r in result.commended] == ["王芳", "赵磊"] and [r.name for r in result.below] == ["钱多"]
    grids = {r.name: r for r in result.grids}
    assert grids["吴城村第一网格"].score == Decimal("84.5") and grids["吴城村第二网格"].score == Decimal("54.0")
    # Publishing needs the month to be over, freezes the rows, and happens once.
    with pytest.raises(ValidationFailed):
        services.assessment_publish(actor=world.zhang_wei, now=T0 + 5 * DAY, unit_id=world.township.pk,
                                    month=dt.date(2026, 3, 1))
    april = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)
    published = services.assessment_publish(actor=world.zhang_wei, now=april, unit_id=world.township.pk,
                                            month=dt.date(2026, 3, 1))
    assert published.rows == 5
    services.points_adjust(actor=world.zhang_wei, now=dt.datetime(2026, 3, 31, 10, tzinfo=dt.UTC),
                           worker_id=world.qian_duo.pk, points=10, reason="补记三月防汛值守")
    frozen = assessment.from_published(Assessment.dangerously_unscoped.get())
    assert {r.name: r.score for r in frozen.workers}["钱多"] == Decimal("54.0")
    with pytest.raises(Conflict):
        services.assessment_publish(actor=world.zhang_wei, now=april, unit_id=world.township.pk,
                                    month=dt.date(2026, 3, 1))
    assert AuditEvent.objects.filter(action="assessment.publish").count() == 1


def test_case_facts_feed_points_once(world, rules):
    from gridgov.cases.intake import case_report
    from gridgov.cases.transitions import case_act
    from gridgov.processes.points_feed import points_feed_run
    from tests.builtins import ensure_builtins

    ensure_builtins()
    case = case_report(actor=world.wang_fang, now=T0, title="村口垃圾堆放", description="村口路边有大量生活垃圾。",
                       category_code="sanitation", channel="field", unit_id=world.grid_a1.pk).case
    case_act(actor=world.wang_fang, now=T0 + dt.timedelta(hours=1), case_id=case.pk, action="self_handle",
             result="已组织清运")
    first = points_feed_run(now=T0 + dt.timedelta(hours=2))
    second = points_feed_run(now=T0 + dt.timedelta(hours=3))
    assert first["cases"] == 1 and second["cases"] == 0
    entry = PointEntry.dangerously_unscoped.get(worker=world.wang_fang)
    assert entry.points == 5 and entry.kind == "case_self_handled" and case.number in entry.reason


def test_visits_join_the_feed_through_the_hook_when_the_app_offers_facts(world, rules, monkeypatch):
    from gridgov.processes import points_feed

    def facts(*, since, until):  # type: ignore[no-untyped-def]
        return [{"kind": "visit", "user_id": world.wang_fang.pk, "visit_id": n, "at": T0 + dt.timedelta(hours=n)}
                for n in (1, 2) if since <= T0 + dt.timedelta(hours=n) < until]

    monkeypatch.setattr(points_feed, "visit_facts", facts)
    report = points_feed.points_feed_run(now=T0 + dt.timedelta(hours=5))
    points_feed.points_feed_run(now=T0 + dt.timedelta(hours=6))
    assert report["visits"] == 2
    assert list(PointEntry.dangerously_unscoped.filter(worker=world.wang_fang).values_list("kind", "points")) == [
        ("visit", 2), ("visit", 2)]


def test_an_overdue_case_held_by_a_grid_costs_its_grid_workers(world, rules):
    from gridgov.cases.deadlines import OVERDUE_URGE_NOTE
    from gridgov.cases.intake import case_report
    from gridgov.cases.transitions import case_act
    from gridgov.processes.points_feed import points_feed_run
    from tests.builtins import ensure_builtins

    ensure_builtins()
    case = case_report(actor=world.wang_fang, now=T0, title="路灯不亮", description="村口路灯坏了。",
                       category_code="sanitation", channel="field", unit_id=world.grid_a1.pk).case
    case_act(actor=None, now=T0 + dt.timedelta(hours=1), case_id=case.pk, action="urge", note=OVERDUE_URGE_NOTE)
    points_feed_run(now=T0 + dt.timedelta(hours=2))
    lost = PointEntry.dangerously_unscoped.filter(kind="case_overdue")
    assert list(lost.values_list("worker__username", "points")) == [("wangfang", -2)]  # 赵磊 is the grid head
