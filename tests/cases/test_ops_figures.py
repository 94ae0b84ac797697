"""/ops/metrics carries the work figures operations watch besides latency (issue 8): overdue open
cases, the outbox backlog and the depth of every Celery queue; and every job has a queue of its kind."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from gridgov.cases.models import Case
from gridgov.notify.models import Outbox

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/13"


def _scrape(client) -> str:  # type: ignore[no-untyped-def]
    cache.delete("gridgov:ops:work")
    response = client.get("/ops/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    return response.content.decode()


def _redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def test_overdue_open_cases_count_clocked_cases_past_their_deadline_only(client, kit):
    now = dt.datetime.now(dt.UTC)
    past, future = now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    late = kit.to_state("handling")
    on_time = kit.to_state("dispatched")
    done = kit.to_state("closed")
    Case.dangerously_unscoped.filter(pk__in=[late.pk, done.pk]).update(resolve_due=past)
    Case.dangerously_unscoped.filter(pk=on_time.pk).update(resolve_due=future)
    assert "gridgov_cases_overdue_open 1.0" in _scrape(client)
    Case.dangerously_unscoped.filter(status="dispatched").update(resolve_due=past)
    assert "gridgov_cases_overdue_open 2.0" in _scrape(client)


def test_outbox_backlog_counts_due_and_waiting_messages(client):
    now = dt.datetime.now(dt.UTC)
    common = {"kind": Outbox.Kind.INBOX, "topic": "t", "created_at": now}
    Outbox.objects.create(dedupe_key="a", available_at=now - dt.timedelta(minutes=1), **common)
    Outbox.objects.create(dedupe_key="b", available_at=now + dt.timedelta(minutes=5), **common)
    Outbox.objects.create(dedupe_key="c", available_at=now, delivered_at=now, **common)
    Outbox.objects.create(dedupe_key="d", available_at=now, failed_at=now, **common)
    body = _scrape(client)
    assert 'gridgov_outbox_pending{state="due"} 1.0' in body
    assert 'gridgov_outbox_pending{state="waiting"} 1.0' in body


def test_queue_depth_of_every_queue_from_the_redis_broker(client, settings):
    r = _redis()
    r.flushdb()
    try:
        r.rpush("imports", "job1", "job2", "job3")
        r.rpush("sweep", "job4")
        r.hset("unacked", "tag1", "x")
        settings.CELERY_BROKER_URL = REDIS_URL
        body = _scrape(client)
    finally:
        r.flushdb()
    assert "gridgov_broker_up 1.0" in body
    assert 'gridgov_queue_depth{queue="imports"} 3.0' in body
    assert 'gridgov_queue_depth{queue="sweep"} 1.0' in body
    assert 'gridgov_queue_depth{queue="outbox"} 0.0' in body
    assert 'gridgov_queue_depth{queue="(unacked)"} 1.0' in body


def test_a_broker_that_does_not_answer_is_a_figure_not_a_failed_scrape(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    body = _scrape(client)
    assert "gridgov_broker_up 0.0" in body
    assert "gridgov_queue_depth" not in body
    assert "gridgov_cases_overdue_open 0.0" in body


def test_the_figures_are_kept_between_scrapes(client, kit, django_assert_max_num_queries):
    _scrape(client)
    with django_assert_max_num_queries(0):
        client.get("/ops/metrics", REMOTE_ADDR="127.0.0.1")


def test_every_job_is_routed_to_a_queue_of_its_kind_and_a_plain_worker_consumes_them_all():
    from config.celery import app

    app.loader.import_default_modules()
    ours = {name for name in app.tasks if not name.startswith("celery.")}
    assert ours, "no tasks registered"
    routes = settings.CELERY_TASK_ROUTES
    assert ours == set(routes), f"jobs without a route: {ours - set(routes)}; routes to nothing: {set(routes) - ours}"
    assert {r["queue"] for r in routes.values()} <= set(settings.GRIDGOV_QUEUES)
    # A worker started without -Q consumes every queue in task_queues (one machine's deployment).
    assert set(app.amqp.queues) == set(settings.GRIDGOV_QUEUES)
    assert app.amqp.router.route({}, "gridgov.cases.sweep")["queue"].name == "sweep"
    assert app.amqp.router.route({}, "residents.import_run")["queue"].name == "imports"
