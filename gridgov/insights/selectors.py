"""Reads of report runs, through the actor's scope."""

from __future__ import annotations

from gridgov.access.roles import P
from gridgov.access.scope import Scope, get_in_scope
from gridgov.core.errors import NotFound

from .models import ReportRun


def reports_visible(*, scope: Scope, limit: int = 50) -> list[ReportRun]:
    """Reports of units whose case figures the actor may read."""
    return list(ReportRun.objects.within(scope).filter(scope.path_q("unit__path", P.CASE_VIEW))
                .select_related("unit", "requested_by")[:limit])


def report_get(*, scope: Scope, report_id: int) -> ReportRun:
    run: ReportRun = get_in_scope(ReportRun.objects.select_related("unit"), scope, pk=report_id)
    if not scope.can(P.CASE_VIEW, run.unit.path):
        raise NotFound()
    return run
