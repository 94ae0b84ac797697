"""Reads of the jobs' state (the jobs page, /ops/metrics, the dashboard's banner)."""

from __future__ import annotations

from collections.abc import Iterable

from .models import JobState


def job_states(names: Iterable[str] | None = None) -> dict[str, JobState]:
    """Each job's row by name (one query); a job that has never run may have none yet."""
    rows = JobState.objects.all()
    if names is not None:
        rows = rows.filter(name__in=list(names))
    return {row.name: row for row in rows}
