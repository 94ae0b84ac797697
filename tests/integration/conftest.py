"""A small deployment on this machine: two granian app servers and two Celery workers, against
the test run's PostgreSQL database and a real Redis. Skipped on SQLite or without Redis."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from gridgov.core import fieldcrypto

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# A Redis database of its own per pytest-xdist worker (gw0 → 15, gw1 → 14…): each worker's deployment
# flushes it and pings only its own Celery workers.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("GRIDGOV_TEST_REDIS", f"redis://127.0.0.1:6379/{15 - _WORKER % 16}")


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Deployment:
    env: dict[str, str]
    ports: list[int] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path = ROOT / "artifacts" / "integration"
    _celery: Any = None

    def url(self, i: int, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[i]}{path}"

    def start_server(self) -> None:
        port = free_port()
        log = open(self.logs / f"server-{port}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [str(VENV_BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--blocking-threads", "4", "--log-level", "warning", "config.wsgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_port(port)
        self.ports.append(port)
        self.servers.append(proc)

    worker_names: list[str] = field(default_factory=list)

    def start_worker(self, name: str) -> None:
        self.worker_names.append(name)
        log = open(self.logs / f"worker-{name}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "config", "worker", "-n", f"{name}@%h", "--concurrency", "1",
             "--pool", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)

    @property
    def celery(self) -> Any:
        """A client app of its own: the project's app in this process may already hold pools and
        settings from earlier (eager) tests."""
        if self._celery is None:
            from celery import Celery

            from config import queues

            self._celery = Celery("gridgov-integration", broker=REDIS_URL, backend=REDIS_URL)
            self._celery.conf.update(queues.client_conf())  # jobs go to their kind's queue, as the app sends them
        return self._celery

    def send(self, task: str, **kwargs: Any) -> Any:
        return self.celery.send_task(task, kwargs=kwargs)

    def wait_workers(self, count: int, seconds: float = 90) -> None:
        app = self.celery
        deadline = time.time() + seconds
        while time.time() < deadline:
            replies = app.control.ping(timeout=1.0) or []
            alive = {name for reply in replies for name in reply}
            if len([n for n in alive if any(n.startswith(f"{w}@") for w in self.worker_names)]) >= count:
                return
        raise RuntimeError("workers did not come up")

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.workers = []

    def stop(self) -> None:
        for proc in self.servers + self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.servers + self.workers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def deployment(transactional_db: None) -> Iterator[Deployment]:
    if connection.vendor != "postgresql":
        pytest.skip("the deployment test runs on PostgreSQL")
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    database_url = f"postgres://{db['USER'] or 'postgres'}@{host}:{port}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "GRIDGOV_TESTING"}}
    env.update(
        DATABASE_URL=database_url, REDIS_URL=REDIS_URL, CELERY_BROKER_URL=REDIS_URL,
        CELERY_RESULT_BACKEND=REDIS_URL, CELERY_TASK_ALWAYS_EAGER="0", DEBUG="0", SECURE_COOKIES="0",
        SECRET_KEY="integration-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost", DATABASE_POOL="0", GRIDGOV_FAST_HASHER="1", GRIDGOV_REQUIRE_TOTP="0",
    )
    # The servers and workers seal and open personal data (SMS numbers in the outbox…) with the keys
    # this test process uses.
    keys = fieldcrypto.keys()
    env.setdefault("GRIDGOV_FIELD_KEY", base64.b64encode(keys.by_id[keys.current_id]).decode())
    env.setdefault("GRIDGOV_INDEX_KEY", base64.b64encode(keys.index_key).decode())
    env.setdefault("GRIDGOV_AUDIT_KEY", settings.GRIDGOV_AUDIT_KEY)  # they seal audit rows with this one
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([str(VENV_BIN / "python"), "-c",
                    f"import redis; redis.Redis.from_url({REDIS_URL!r}).flushdb()"], check=True)
    # Production settings serve hashed static files from the manifest; build it when stale.
    manifest = ROOT / "var" / "static" / "staticfiles.json"
    sources = [p for d in ("gridgov/interfaces/static", "var/vendor") for p in (ROOT / d).rglob("*") if p.is_file()]
    if not manifest.exists() or max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime:
        subprocess.run([str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
                       cwd=ROOT, env=env, check=True)
    dep = Deployment(env=env)
    dep.logs.mkdir(parents=True, exist_ok=True)
    try:
        dep.start_server()
        dep.start_server()
        dep.start_worker("w1")
        dep.start_worker("w2")
        dep.wait_workers(2)
        yield dep
    finally:
        dep.stop()
