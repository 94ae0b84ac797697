"""定时任务: every scheduled job (config/jobs.py) with its schedule, last run, result, error and next run, and
a red flag when it has not succeeded within twice its period. For the county/township offices and the
system admin (jobs.view); nobody else reaches it (404, like a page that does not exist)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gridgov.access.roles import P
from gridgov.core.clock import now
from gridgov.core.errors import NotFound
from gridgov.interfaces.http import actor_scope, scoped_view
from gridgov.interfaces.jobs.status import job_statuses


@scoped_view
def jobs_page(request: HttpRequest) -> HttpResponse:
    if not actor_scope(request).can(P.JOBS_VIEW):
        raise NotFound()
    moment = now()
    statuses = job_statuses(now=moment)
    red = [s for s in statuses if s.red]
    return render(request, "staff/jobs.html", {"statuses": statuses, "red": red, "now": moment})


def urls() -> list[Any]:
    from django.urls import path

    return [path("jobs/", jobs_page, name="jobs")]
