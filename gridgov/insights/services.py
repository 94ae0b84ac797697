"""The one write path of insights: asking for a report (the report run is insights' own record;
domain data is only read)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from gridgov.access.models import User
from gridgov.access.roles import P
from gridgov.access.scope import scope_for
from gridgov.audit.services import audit_record
from gridgov.core.clock import local
from gridgov.core.errors import NotFound, ValidationFailed

from . import reports
from .measures import measure_unit
from .models import ReportKind, ReportRun, ReportStatus

log = logging.getLogger(__name__)


@transaction.atomic
def report_request(*, actor: User, now: dt.datetime, unit_id: Any, kind: str, day: Any = None) -> ReportRun:
    """Ask for a weekly, monthly or 12345 weekly report of a unit; it is generated in the background."""
    scope = scope_for(actor)
    unit = measure_unit(scope=scope, unit_id=unit_id)
    if kind not in ReportKind.values:
        raise ValidationFailed("请选择报表类型（周报、月报或12345热线周报）。", field="kind")
    today = local(now).date()
    if day in (None, ""):
        # By default the last complete week or month.
        day = (today.replace(day=1) - dt.timedelta(days=1)) if kind == ReportKind.MONTHLY \
            else today - dt.timedelta(days=today.weekday() + 1)
    elif not isinstance(day, dt.date):
        try:
            day = dt.date.fromisoformat(str(day).strip()[:10])
        except ValueError:
            raise ValidationFailed("日期格式不正确，请按 2026-03-01 的格式填写。", field="day")
    period = reports.report_period(kind, day, today)
    run = ReportRun.dangerously_unscoped.create(unit=unit, kind=kind, period_start=period.start, period_end=period.end,
                                    requested_by=actor, requested_at=now)
    audit_record(action="insights.report_request", actor=actor, now=now, obj=run, unit_path=unit.path,
                 role=scope.role_at(unit.path), detail={"kind": kind, "period": period.label})
    from .tasks import report_build  # late: the task module imports this one

    transaction.on_commit(lambda: report_build.delay(run.pk))
    return run


def report_generate(*, run_id: int, now: dt.datetime) -> ReportRun:
    """Build a requested report, recording progress as it goes. Safe to run twice: a finished run is
    left alone; a failed or interrupted one is built again."""
    found = ReportRun.dangerously_unscoped.select_related("unit", "requested_by").filter(pk=run_id).first()
    if found is None:
        raise NotFound()
    run = found
    if run.status == ReportStatus.DONE:
        return run

    def progress(percent: int, message: str) -> None:
        ReportRun.dangerously_unscoped.filter(pk=run.pk).update(status=ReportStatus.RUNNING, progress=percent,
                                                                message=message)

    progress(1, "开始生成")
    try:
        if not scope_for(run.requested_by).can(P.CASE_VIEW, run.unit.path):
            raise NotFound("申请人已无权查看该单位的统计。")
        pdf, xlsx = reports.generate(run, now, progress)
    except Exception as exc:
        log.exception("report %s failed", run.pk)
        text = getattr(exc, "message", "") or "生成报表时出错，请重新生成。"
        ReportRun.dangerously_unscoped.filter(pk=run.pk).update(status=ReportStatus.FAILED, message=text[:200])
        run.refresh_from_db()
        return run
    stem = f"report-{run.unit_id}-{run.kind}-{run.period_start:%Y%m%d}"
    with transaction.atomic():
        run = ReportRun.dangerously_unscoped.select_for_update().get(pk=run.pk)
        run.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
        run.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx), save=False)
        run.status, run.progress, run.message, run.finished_at = ReportStatus.DONE, 100, "已完成", now
        run.save()
    return run
