"""定时任务 (issue 15.2) for each named persona, the dashboard's banner to offices when the deadline sweep or
the outbox is stale, and the jobs' heartbeats in /ops/metrics (issue 23.3) with the alert rules that read them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from django.core.cache import cache

from config.jobs import JOBS
from gridgov.core import clock
from gridgov.scheduling.models import JobState
from gridgov.scheduling.services import job_rows_ensure

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _text(html: str) -> str:
    body = html[html.index("<main"):] if "<main" in html else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def _healthy(now: dt.datetime) -> None:
    """Every job ran a moment ago, successfully."""
    job_rows_ensure(job.name for job in JOBS)
    for job in JOBS:
        JobState.objects.filter(name=job.name).update(
            last_started_at=now - dt.timedelta(seconds=10), last_finished_at=now - dt.timedelta(seconds=8),
            last_success_at=now - dt.timedelta(seconds=8), last_outcome="ok", last_seconds=2.0, runs_total=5,
            last_result={}, next_run_at=now + dt.timedelta(seconds=job.period - 10))


def test_offices_and_the_system_admin_see_every_job_with_its_state(world, login):
    now = clock.now()
    _healthy(now)
    JobState.objects.filter(name="cases-sweep").update(last_result={"overdue": 3, "escalated": 1, "warned": 0})
    JobState.objects.filter(name="notify-deliver").update(
        last_outcome="failed", last_error="ConnectionError: sms gateway refused", failures_in_row=2,
        failures_total=2)
    JobState.objects.filter(name="audit-seal").update(last_success_at=now - dt.timedelta(minutes=5),
                                                      last_started_at=now - dt.timedelta(minutes=5))
    for persona in (world.zhang_wei, world.chen_jing, world.zhou_min):
        response = login(persona).get("/jobs/")
        assert response.status_code == 200, persona
        html = response.content.decode()
        text = _text(html)
        for job in JOBS:
            assert job.label in text
        assert "每 5 分钟" in text and "每分钟" in text and "每小时" in text and "每天 02:30" in text
        assert "标记超期 3" in text and "自动上报 1" in text and "到期预警 0" in text
        # Two red flags: the failed outbox and the seal not run for 5 minutes (period 1 minute).
        assert "有 2 项任务需要处理" in text
        assert len(re.findall(r'class="card job job-red"', html)) == 2
        assert re.search(r'job-red" data-job="notify-deliver"', html) and "上次失败" in text
        assert "连续 2 次" in text and "sms gateway refused" in html
        assert re.search(r'job-red" data-job="audit-seal"', html) and "未按时运行" in text
        assert re.search(r'job-green" data-job="cases-sweep"', html)
        assert 'href="/jobs/"' in html  # in the navigation


def test_everyone_else_is_refused_as_if_the_page_did_not_exist(world, login, client):
    for persona in (world.wang_fang, world.zhao_lei, world.li_qiang, world.liu_yang, world.wu_gang,
                    world.zheng_hong):
        response = login(persona).get("/jobs/")
        assert response.status_code == 404, persona
        assert "定时任务" not in response.content.decode()
    assert client.get("/jobs/").status_code == 302  # to the sign-in page


def test_a_job_never_run_is_red_and_all_green_says_so(world, login):
    office = login(world.zhang_wei)
    text = _text(office.get("/jobs/").content.decode())
    assert f"有 {len(JOBS)} 项任务需要处理" in text and "从未运行" in text and "还没有成功运行过" in text
    _healthy(clock.now())
    text = _text(office.get("/jobs/").content.decode())
    assert f"全部 {len(JOBS)} 项任务运行正常" in text and "需要处理" not in text


def test_the_dashboard_warns_offices_when_the_sweep_or_the_outbox_is_stale(world, login):
    now = clock.now()
    _healthy(now)
    office, worker = login(world.zhang_wei), login(world.wang_fang)
    assert "job-banner" not in office.get("/dashboard/").content.decode()
    JobState.objects.filter(name="cases-sweep").update(last_success_at=now - dt.timedelta(minutes=11))
    html = office.get("/dashboard/").content.decode()
    assert "job-banner" in html and "「事件时限巡检（预警、超期、催办、上报、自动办结）」" in html
    assert "发送短信和消息" not in html
    JobState.objects.filter(name="notify-deliver").update(last_success_at=None)
    html = office.get("/dashboard/").content.decode()
    assert "「发送短信和消息」" in html and 'href="/jobs/"' in html
    # A grid worker sees the figures, not the machine's state.
    dash = worker.get("/dashboard/")
    assert dash.status_code == 200 and "job-banner" not in dash.content.decode()
    # Another stale job (a daily one) does not warn the offices on the dashboard.
    _healthy(now)
    JobState.objects.filter(name="audit-archive").update(last_success_at=now - dt.timedelta(days=3))
    assert "job-banner" not in office.get("/dashboard/").content.decode()


def test_metrics_carry_each_jobs_heartbeat_and_the_rules_read_them(client):
    now = clock.now()
    _healthy(now)
    JobState.objects.filter(name="cases-sweep").update(last_result={"overdue": 4}, failures_total=2)
    cache.clear()
    body = client.get("/ops/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    success = re.search(r'gridgov_job_last_success_timestamp_seconds\{job="cases-sweep"\} (\S+)', body)
    assert success and abs(float(success.group(1)) - (now - dt.timedelta(seconds=8)).timestamp()) < 1
    assert 'gridgov_job_period_seconds{job="cases-sweep"} 300.0' in body
    assert 'gridgov_job_runs_total{job="cases-sweep"} 5.0' in body
    assert 'gridgov_job_failures_total{job="cases-sweep"} 2.0' in body
    assert 'gridgov_job_stale{job="cases-sweep"} 0.0' in body
    assert 'gridgov_job_last_result{count="overdue",job="cases-sweep"} 4.0' in body
    for job in JOBS:
        assert f'gridgov_job_last_start_timestamp_seconds{{job="{job.name}"}}' in body
    # Every metric the shipped alert rules read is exposed.
    rules = yaml.safe_load((ROOT / "deploy/prometheus/gridgov-rules.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    named = {m for e in exprs for m in re.findall(r"gridgov_[a-z_]+", e)}
    assert {"gridgov_job_last_success_timestamp_seconds", "gridgov_job_last_start_timestamp_seconds"} <= named
    for metric in named - {"gridgov_queue_depth"}:  # with a Redis broker only (tests/cases/test_ops_figures.py)
        assert re.search(rf"^{metric}[{{ ]", body, re.M), metric
    assert any('job="cases-sweep"' in e for e in exprs) and any('job="notify-deliver"' in e for e in exprs)
