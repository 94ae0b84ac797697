"""Issue 15's "Done when", on the smallest seeded world: what `make demo` does (an SQLite file, migrate,
seed_world, `manage.py serve` = granian + the job runner), then wait for one pass of the runner: overdue
cases are marked and urged, audit rows sealed, `audit_verify` intact, and the jobs page, seen in Chromium
by the county office, shows every job green (screenshot in artifacts/jobs-page*.png). Then Ctrl-C (SIGINT
to the process group), SIGTERM and SIGKILL of `serve` each stop granian too: no orphan server.

Everything runs in subprocesses against a database file of its own; the test's own database is unused."""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.jobs import JOBS
from tests.browser.conftest import PHONE, screenshot
from tests.integration.conftest import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PASSWORD = "Wangge-2026!"  # the demo accounts' published password (README)
JOB_COUNT = len(JOBS)  # every job of the one schedule (config/jobs.py)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    done = subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _children(pid: int) -> set[int]:
    """Every descendant of pid (granian's main process and its workers)."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for t in tasks:
            try:
                kids = Path(f"/proc/{p}/task/{t}/children").read_text().split()
            except FileNotFoundError:
                continue
            for k in map(int, kids):
                if k not in out:
                    out.add(k)
                    todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_gone(pids: set[int], seconds: float = 30) -> set[int]:
    deadline = time.time() + seconds
    while time.time() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return {p for p in pids if _alive(p)}


class Demo:
    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "demo.sqlite3"
        env = {k: v for k, v in os.environ.items()
               if k not in {"PYTEST_VERSION", "GRIDGOV_TESTING", "PYTEST_XDIST_WORKER", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
        env.update(DATABASE_URL=f"sqlite:///{self.db}", DEBUG="0", SECURE_COOKIES="0", GRIDGOV_REQUIRE_TOTP="0",
                   SECRET_KEY=secrets.token_urlsafe(50), GRIDGOV_FAST_HASHER="1", MEDIA_ROOT=str(tmp / "media"),
                   GRIDGOV_FIELD_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
                   GRIDGOV_INDEX_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
                   GRIDGOV_AUDIT_KEY=f"demo:{secrets.token_urlsafe(32)}",  # as make demo's var/demo.env
                   GRIDGOV_JOB_TICK="1", ALLOWED_HOSTS="127.0.0.1,localhost")
        self.env = env
        self.log = tmp / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.seen: set[int] = set()  # every granian process seen: none may outlive the test

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db, timeout=30) as conn:
            return conn.execute(sql, args).fetchall()

    def serve(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(  # like `make demo`: its own process group, as a terminal's job
            [str(VENV_BIN / "python"), "manage.py", "serve", "--port", str(self.port)], cwd=ROOT, env=self.env,
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port)

    def server_pids(self) -> set[int]:
        assert self.proc is not None
        pids = _children(self.proc.pid)
        self.seen |= pids
        return pids

    def jobs(self) -> dict[str, tuple[Any, ...]]:
        rows = self.query("SELECT name, last_outcome, runs_total, last_error FROM scheduling_jobstate")
        return {r[0]: r[1:] for r in rows}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = Demo(tmp_path)
    manifest = ROOT / "var" / "static" / "staticfiles.json"
    sources = [p for sub in ("gridgov/interfaces/static", "var/vendor") for p in (ROOT / sub).rglob("*") if p.is_file()]
    if not manifest.exists() or max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime:
        _manage(d.env, "collectstatic", "--noinput", "-v", "0")
    _manage(d.env, "migrate", "--noinput", "-v", "0")
    _manage(d.env, "seed_world", "--preset", "xilujiao", "--seed", "1", "--if-empty")
    try:
        yield d
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.seen |= _children(d.proc.pid)
            os.killpg(d.proc.pid, signal.SIGKILL)
            d.proc.wait(30)
        for pid in d.seen:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


CLOCKED = "('reported','dispatched','acknowledged','handling','returned')"


def test_make_demo_closes_the_loop_by_itself_and_stops_cleanly(demo: Demo, browser: Any) -> None:
    # The seeded world, before any job ran: overdue cases never marked; audit rows are sealed as they are written
    # (the keyed chain, issue #16), so none waits for a job.
    before = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    unmarked = demo.query(f"SELECT id FROM cases_case WHERE status IN {CLOCKED} AND resolve_due < ? "  # noqa: S608
                          "AND overdue = 0", before)
    assert unmarked, "the seeded world has no unmarked overdue case: nothing to show"
    assert demo.query("SELECT count(*) FROM audit_auditevent WHERE seq IS NULL")[0][0] == 0

    demo.serve()
    deadline = time.time() + 300
    while time.time() < deadline:
        jobs = demo.jobs()
        if len(jobs) == JOB_COUNT and all(j[0] in ("ok", "failed") for j in jobs.values()):
            break
        assert demo.proc is not None and demo.proc.poll() is None, demo.log.read_text()
        time.sleep(1)
    else:
        pytest.fail(f"the runner did not run every job: {demo.jobs()}\n{demo.log.read_text()}")
    jobs = demo.jobs()
    assert {name: j for name, j in jobs.items() if j[0] != "ok"} == {}
    assert {j[1] for j in jobs.values()} == {1}  # each job once

    # The deadline sweep marked and urged every case that was overdue.
    ids = [r[0] for r in unmarked]
    marks = ",".join("?" * len(ids))
    assert demo.query(f"SELECT count(*) FROM cases_case WHERE id IN ({marks}) AND overdue = 0", *ids)[0][0] == 0  # noqa: S608
    urged = {r[0] for r in demo.query(
        f"SELECT DISTINCT case_id FROM cases_caseevent WHERE action = 'urge' AND case_id IN ({marks})", *ids)}  # noqa: S608
    assert urged == set(ids)
    # The audit rows written before and during the pass are sealed, the chain intact.
    sealed_at = demo.query("SELECT last_started_at FROM scheduling_jobstate WHERE name = 'audit-seal'")[0][0]
    assert demo.query("SELECT count(*) FROM audit_auditevent WHERE seq IS NULL AND at <= ?", sealed_at)[0][0] == 0
    # audit_verify never seals (rows are sealed when written, any backlog by the runner's audit job): the chain
    # as written, checked against the latest checkpoint too.
    assert "audit chain intact" in _manage(demo.env, "audit_verify")

    # The county office sees every job green, on a phone.
    url = f"http://127.0.0.1:{demo.port}"
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{url}/login/")
        page.fill("#id_username", "county")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.goto(f"{url}/jobs/")
        assert page.locator("h1").inner_text() == "定时任务"
        assert page.locator(".job-summary").inner_text() == f"全部 {JOB_COUNT} 项任务运行正常。"
        assert page.locator("li.job.job-green").count() == JOB_COUNT
        assert page.locator("li.job.job-red").count() == 0
        sweep = page.locator('li[data-job="cases-sweep"]')
        assert "标记超期" in sweep.inner_text() and "每 5 分钟" in sweep.inner_text()
        seal = page.locator('li[data-job="audit-seal"]')
        assert "已封存" in seal.inner_text()
        screenshot(page, "jobs-page-phone")
        page.set_viewport_size({"width": 1280, "height": 900})
        screenshot(page, "jobs-page")
    finally:
        context.close()

    # Ctrl-C in the terminal (SIGINT to the whole process group) stops the runner and granian.
    assert demo.proc is not None
    servers = demo.server_pids()
    assert servers, "granian is not a child of serve"
    os.killpg(demo.proc.pid, signal.SIGINT)
    assert demo.proc.wait(90) is not None
    assert _wait_gone(servers) == set()

    # Started again at once: nothing is due, no job runs twice.
    demo.serve()
    time.sleep(4)  # a few ticks of the runner
    assert {j[1] for j in demo.jobs().values()} == {1}
    # SIGTERM to serve alone (systemd, kill): granian stops with it.
    servers = demo.server_pids()
    demo.proc.send_signal(signal.SIGTERM)
    demo.proc.wait(90)
    assert _wait_gone(servers) == set()

    # SIGKILL of serve: granian is told by the kernel (PR_SET_PDEATHSIG) and stops too.
    demo.serve()
    servers = demo.server_pids()
    assert servers
    demo.proc.send_signal(signal.SIGKILL)
    demo.proc.wait(30)
    assert _wait_gone(servers) == set()
