"""World step (seed_world): a month and a half of duty lists, points and one published assessment
for the demo township (the first township of the deployment), written through the services so
every row has its history and audit rows. Deterministic for a seed; skipped when present."""

from __future__ import annotations

import datetime as dt
import random
from typing import TextIO

from gridgov.access.models import Grant
from gridgov.core.clock import LOCAL_TZ, local
from gridgov.units.models import TOWNSHIP_BASE_KINDS, Unit

from . import services, staff
from .models import DutyItem, DutyList, PointRule
from .periods import month_of

MAX_WORKERS = 80  # named items per list: the demo township's workers, capped
# Who completes an item issued to a village (its secretary, or a cadre there).
UNIT_DOERS = ("village_secretary", "chief_grid_head", "grid_head", "resident_cadre", "area_head")


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL_TZ)


def demo_township() -> Unit | None:
    return (Unit.dangerously_unscoped.filter(kind__base__in=TOWNSHIP_BASE_KINDS, is_active=True).select_related("kind")
            .order_by("path").first())


def _office(township: Unit) -> int | None:
    grant = Grant.dangerously_unscoped.filter(unit=township, role__code="township_office",
                                              revoked_at__isnull=True).first()
    return grant.user_id if grant else None


def _county_of(township: Unit) -> Unit:
    ids = township.ancestor_ids()
    return Unit.dangerously_unscoped.get(pk=ids[0]) if ids else township


def seed_rules_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO) -> None:
    """The default points rules at the demo township's county (before the points feed scores cases)."""
    township = demo_township()
    if township is None or not township.path.startswith(root.path):
        return
    county = _county_of(township)
    if PointRule.dangerously_unscoped.filter(unit=county).exists():
        return
    start = _at(local(now).date() - dt.timedelta(days=70), 9)
    for kind, points, cap in services.DEFAULT_RULES:
        services.rule_save(actor=None, now=start, unit_id=county.pk, kind=kind, points=points, monthly_cap=cap)
    stdout.write(f"workforce: default points rules set at {county.name}\n")


def seed_world_step(*, seed: int, now: dt.datetime, root: Unit, stdout: TextIO) -> None:
    township = demo_township()
    if township is None or not township.path.startswith(root.path):
        return
    if DutyList.dangerously_unscoped.filter(unit__path__startswith=township.path).exists():
        stdout.write("workforce: already present for the demo township, skipped\n")
        return
    from gridgov.access.models import User

    rng = random.Random(f"{seed}:workforce")
    office_id = _office(township)
    office = User.objects.filter(pk=office_id).first() if office_id else None
    seed_rules_step(seed=seed, now=now, root=root, stdout=stdout)
    this_month = month_of(now)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    grants = staff.assessed_grants(township.path)[:MAX_WORKERS]
    villages = list(Unit.dangerously_unscoped.filter(parent=township, is_active=True).order_by("path"))
    if not grants:
        return
    last_day = local(now).date()

    def run(title: str, issued: dt.date, due: dt.date, *, units: list[Unit] | None = None,
            evidence: str = "text", done_share: float = 0.7, late_share: float = 0.15) -> None:
        issued_at, due_at = _at(issued, 9), _at(due, 23)
        if issued_at >= now:
            return
        duty = services.duty_list_issue(
            actor=None, now=issued_at, unit_id=township.pk, title=title, due_at=due_at, evidence=evidence,
            description="请按要求完成，并如实填写完成情况。",
            target_unit_ids=[u.pk for u in units or []],
            worker_ids=[] if units else [g.user_id for g in grants])
        items = list(DutyItem.dangerously_unscoped.filter(duty_list=duty).select_related("unit"))
        for item in items:
            roll = rng.random()
            if roll < done_share:
                done_at = issued_at + (due_at - issued_at) * rng.uniform(0.2, 0.95)
            elif roll < done_share + late_share:
                done_at = due_at + dt.timedelta(hours=rng.randint(6, 72))
            else:
                continue
            if done_at >= now:
                continue
            if done_at > due_at:
                services.duty_sweep(now=due_at + dt.timedelta(hours=1))
            user_id = item.assignee_id or next(iter(Grant.dangerously_unscoped.filter(
                unit=item.unit, revoked_at__isnull=True, role__code__in=UNIT_DOERS).values_list("user_id", flat=True)),
                None)
            if user_id is None:
                continue
            doer = User.objects.get(pk=user_id)
            services.duty_item_done(actor=doer, now=done_at, item_id=item.pk,
                                    text=rng.choice(["已逐户核实，情况已登记。", "已完成排查，未发现新问题。",
                                                     "已组织清理，现场已恢复整洁。"]))
            confirm_at = done_at + dt.timedelta(hours=rng.randint(4, 96))
            if confirm_at < now:
                services.duty_item_confirm(actor=None, now=confirm_at, item_id=item.pk)
        if due_at < now:
            services.duty_sweep(now=min(now, due_at + dt.timedelta(hours=2)))

    run("入户走访核查低保户", last_month.replace(day=3), last_month.replace(day=20))
    run("汛前隐患排查", last_month.replace(day=8), last_month.replace(day=25), units=villages, done_share=0.8)
    run("网格员台账月度更新", last_month.replace(day=12), last_month.replace(day=28), done_share=0.6, late_share=0.2)
    if last_day.day > 2:
        run("人居环境整治巡查", this_month.replace(day=1), this_month + dt.timedelta(days=14))
    manual = [(2, "协助处置突发火情，表现突出"), (-3, "网格例会无故缺席"), (1, "群众来信表扬")]
    for points, reason in manual:
        g = rng.choice(grants)
        services.points_adjust(actor=office, now=_at(last_month, 10) + dt.timedelta(days=rng.randint(3, 25)),
                               worker_id=g.user_id, points=points, reason=reason)
    services.assessment_publish(actor=office, now=now, unit_id=township.pk, month=last_month,
                                note="请各村对照排名查找不足，低于合格线的网格员由村党组织约谈。")
    stdout.write(f"workforce: {DutyList.dangerously_unscoped.filter(unit=township).count()} duty lists, "
                 f"assessment of {last_month:%Y-%m} published for {township.name}\n")
