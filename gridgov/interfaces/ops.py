"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gridgov.cases.selectors import overdue_open_count
from gridgov.core.clock import now as clock_now
from gridgov.interfaces.http import public_view
from gridgov.interfaces.jobs.status import job_statuses
from gridgov.notify.selectors import outbox_backlog

# The work figures cost a few indexed counts and a Redis round trip per queue; a scraper every
# 15 s from two Prometheus servers should not repeat them, so they are kept this long.
WORK_FIGURES_SECONDS = 30


@public_view
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@public_view
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: "ok" (200) when the database and the cache answer; "degraded" (200) when only the cache
    (Redis) does not: every app server shares it, the app runs on without it (gridgov/core/redis_cache.py), and a
    load balancer must not drop every server at once; "down" (503) when the database does not answer."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "error"
    try:
        probe = getattr(cache, "is_available", None)
        if probe is not None:
            checks["cache"] = "ok" if probe() else "error"
        else:
            cache.set("gridgov:ready", "1", 5)
            checks["cache"] = "ok" if cache.get("gridgov:ready") == "1" else "error"
    except Exception:
        checks["cache"] = "error"
    status = "down" if checks["database"] != "ok" else ("ok" if checks["cache"] == "ok" else "degraded")
    return JsonResponse({"status": status, "checks": checks}, status=503 if status == "down" else 200)


def _queue_depths() -> dict[str, int] | None:
    """Jobs waiting in each Celery queue (the Redis broker keeps a queue as a list) and jobs handed to
    a worker but not yet acknowledged (acks_late: kombu's `unacked` hash). None without a Redis broker."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        with client.pipeline(transaction=False) as pipe:
            for name in settings.GRIDGOV_QUEUES:
                pipe.llen(name)
            pipe.hlen("unacked")
            *depths, unacked = pipe.execute()
    finally:
        client.close()
    figures = {name: int(n) for name, n in zip(settings.GRIDGOV_QUEUES, depths, strict=True)}
    figures["(unacked)"] = int(unacked)
    return figures


def _ts(moment: Any) -> float:
    return moment.timestamp() if moment is not None else 0.0


def _job_figures(now: Any) -> list[dict[str, Any]]:
    """Per scheduled job (config/jobs.py), from its row: the heartbeat (#23.3) the alert rules read."""
    figures = []
    for s in job_statuses(now=now):
        row = s.state
        figures.append({
            "job": s.job.name, "period": s.job.period, "stale": int(s.stale),
            "last_success": _ts(row.last_success_at if row else None),
            "last_start": _ts(row.last_started_at if row else None),
            "runs": row.runs_total if row else 0, "failures": row.failures_total if row else 0,
            "failing": int(bool(row and row.last_outcome == "failed")),
            "result": dict(row.last_result) if row and row.last_result else {},
        })
    return figures


def work_figures() -> dict[str, Any]:
    """The figures operations watch besides latency: queue depth, overdue cases, outbox backlog."""
    kept = cache.get("gridgov:ops:work")
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    now = clock_now()
    figures: dict[str, Any] = {"overdue_open": overdue_open_count(now=now), "outbox": outbox_backlog(now=now),
                               "jobs": _job_figures(now)}
    try:
        figures["queues"] = _queue_depths()
    except Exception:  # the broker being down is a figure too, not a failed scrape
        figures["queues"] = "error"
    cache.set("gridgov:ops:work", figures, WORK_FIGURES_SECONDS)
    return figures


class WorkCollector(Collector):
    """Gauges computed at scrape time in the scraping process (never per worker, so they are not
    multiplied by the multiprocess collector)."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        # The database not answering must not fail the scrape: the request figures matter most just then.
        up = GaugeMetricFamily("gridgov_work_figures_up", "1 when the database answered for the work figures")
        try:
            figures = work_figures()
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("gridgov_cases_overdue_open", "Cases in a clocked status past their "
                                "resolution deadline (measure overdue_open)", value=figures["overdue_open"])
        outbox = GaugeMetricFamily("gridgov_outbox_pending", "Outbox messages not yet delivered", labels=["state"])
        for state, n in figures["outbox"].items():
            outbox.add_metric([state], n)
        yield outbox
        yield from _job_metrics(figures.get("jobs", []))
        queues = figures["queues"]
        broker = GaugeMetricFamily("gridgov_broker_up", "1 when the Celery broker answered the last scrape")
        broker.add_metric([], 0 if queues == "error" else 1)
        yield broker
        if isinstance(queues, dict):
            depth = GaugeMetricFamily("gridgov_queue_depth", "Jobs waiting in each Celery queue; (unacked) is "
                                      "jobs handed to a worker and not yet acknowledged", labels=["queue"])
            for name, n in queues.items():
                depth.add_metric([name], n)
            yield depth


def _job_metrics(jobs: list[dict[str, Any]]) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """The scheduled jobs' heartbeats: deploy/prometheus/gridgov-rules.yml alerts on them."""
    families: list[GaugeMetricFamily | CounterMetricFamily] = [
        GaugeMetricFamily("gridgov_job_last_success_timestamp_seconds",
                          "When the job last finished without error (Unix time; 0: never)", labels=["job"]),
        GaugeMetricFamily("gridgov_job_last_start_timestamp_seconds",
                          "When the job last started (Unix time; 0: never)", labels=["job"]),
        GaugeMetricFamily("gridgov_job_period_seconds", "Seconds between two runs of the job", labels=["job"]),
        GaugeMetricFamily("gridgov_job_stale", "1 when the job has not succeeded within twice its period",
                          labels=["job"]),
        GaugeMetricFamily("gridgov_job_failing", "1 when the job's last run failed", labels=["job"]),
        CounterMetricFamily("gridgov_job_runs", "Runs of the job, failed ones included", labels=["job"]),
        CounterMetricFamily("gridgov_job_failures", "Failed runs of the job", labels=["job"]),
    ]
    keys = ("last_success", "last_start", "period", "stale", "failing", "runs", "failures")
    result = GaugeMetricFamily("gridgov_job_last_result", "The counts of the job's last successful run",
                               labels=["job", "count"])
    for job in jobs:
        for family, key in zip(families, keys, strict=True):
            family.add_metric([job["job"]], job[key])
        for name, n in job["result"].items():
            result.add_metric([job["job"], name], n)
    yield from families
    yield result


def _allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given, token)
    # Without a token, only the machine itself may scrape.
    return request.META.get("REMOTE_ADDR") in {"127.0.0.1", "::1"}


@public_view
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition. Public in the URL sense, but loopback or bearer token only."""
    if not _allowed(request):
        return HttpResponse(status=404)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = DEFAULT_REGISTRY
    body = generate_latest(registry) + generate_latest(_work_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _work_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkCollector())
    return registry
