"""Celery queues, one per job kind, and which job goes to which. Plain data (no Django), so that the
clients of tests and benchmarks that send jobs from outside the project's app route them the same way:
`Celery(...).conf.update(queues.client_conf())`.

A worker started without -Q consumes every queue in task_queues: that is one machine's deployment. A
larger one starts workers per queue kind (deploy/systemd/gridgov-worker@.service, docs/deploy.md), so a
100k-household import or a county's report never delays the deadline sweep or the SMS outbox."""

from __future__ import annotations

from typing import Any

DEFAULT_QUEUE = "default"
QUEUES = (DEFAULT_QUEUE, "sweep", "outbox", "imports", "reports", "maintenance")

ROUTES: dict[str, dict[str, str]] = {
    # A scheduled job (config/jobs.py): beat sends it with the job's own queue, which wins over this route.
    "gridgov.jobs.run": {"queue": DEFAULT_QUEUE},
    # Deadlines and the work they generate.
    "gridgov.cases.sweep": {"queue": "sweep"},
    "gridgov.workforce.duty_sweep": {"queue": "sweep"},
    "gridgov.workforce.points_feed": {"queue": "sweep"},
    "gridgov.mediation.deadline_remind": {"queue": "sweep"},
    "gridgov.notices.escalate": {"queue": "sweep"},
    "gridgov.processes.routines_run": {"queue": "sweep"},
    # Notifications to staff and residents.
    "gridgov.notify.deliver": {"queue": "outbox"},
    # Ledger imports (minutes for 100k households).
    "residents.import_run": {"queue": "imports"},
    # Files and figures built for people who wait for them, and the dashboards' day facts.
    "residents.export_build": {"queue": "reports"},
    "insights.report_build": {"queue": "reports"},
    "insights.facts_build": {"queue": "reports"},
    # Housekeeping.
    "audit.seal": {"queue": "maintenance"},
    "audit.archive": {"queue": "maintenance"},
    "gridgov.access.disable_idle": {"queue": "maintenance"},
    "gridgov.residents.exports_expire": {"queue": "maintenance"},
    "gridgov.residents.retention": {"queue": "maintenance"},
    "gridgov.cases.public.purge_phones": {"queue": "maintenance"},
}


def task_queues() -> dict[str, dict[str, str]]:
    return {name: {"exchange": name, "routing_key": name} for name in QUEUES}


def client_conf() -> dict[str, Any]:
    """The routing part of the project's Celery configuration, for a client app of its own."""
    return {"task_default_queue": DEFAULT_QUEUE, "task_queues": task_queues(), "task_routes": ROUTES}
