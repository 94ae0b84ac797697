"""The shipped app-server unit (deploy/systemd/gridgov-web@.service), run as systemd runs it: its own ExecStart
with the instance's port and its own runtime directory for the Prometheus files. A killed granian worker is
started again and the instance keeps answering; in a rolling restart, stopping one instance (systemd then
removes its runtime directory) leaves the other's /ops/metrics working."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "gridgov-web@.service"
VENV_BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def unit_lines() -> dict[str, list[str]]:
    text = UNIT.read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.read()


def wait_answering(port: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if get(port, "/ops/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the instance on {port} does not answer")


def children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return {int(p) for p in out.split()}


class Instance:
    """One `gridgov-web@PORT` as systemd starts it: RuntimeDirectory under run_root, Environment=, ExecStart."""

    def __init__(self, run_root: Path) -> None:
        self.port = free_port()
        lines = unit_lines()
        runtime = lines["RuntimeDirectory"][0].replace("%i", str(self.port))
        self.runtime = run_root / runtime
        env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "GRIDGOV_TESTING"}}
        env.update(DEBUG="0", SECRET_KEY="unit-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123",
                   ALLOWED_HOSTS="127.0.0.1", SECURE_COOKIES="0", GRIDGOV_REQUIRE_TOTP="0", DATABASE_POOL="0")
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        for assignment in lines.get("Environment", []):
            key, value = assignment.split("=", 1)
            env[key] = value.replace("%i", str(self.port)).replace("/run/", f"{run_root}/")
        self.env = env
        command = shlex.split(lines["ExecStart"][0].replace("%i", str(self.port)))
        command[0] = str(VENV_BIN / "granian")
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.runtime.mkdir(parents=True)  # systemd creates RuntimeDirectory= before ExecStart
        log = open(self.runtime.parent / f"granian-{self.port}.log", "wb")  # noqa: SIM115
        # A session of its own: stop() ends the server and every worker it (re)spawned, even after a failed test.
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_answering(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # whatever of the session is left
            self.proc.wait(10)
        shutil.rmtree(self.runtime, ignore_errors=True)  # systemd removes RuntimeDirectory= on stop


def test_the_unit_gives_each_instance_its_own_runtime_directory_and_respawns_workers() -> None:
    lines = unit_lines()
    assert "%i" in lines["RuntimeDirectory"][0]
    assert any(a.startswith("PROMETHEUS_MULTIPROC_DIR=") and "%i" in a for a in lines["Environment"])
    assert "--respawn-failed-workers" in lines["ExecStart"][0] and "--workers-max-rss" in lines["ExecStart"][0]
    example = (ROOT / "deploy" / "gridgov.env.example").read_text()
    assert not re.search(r"^PROMETHEUS_MULTIPROC_DIR=", example, flags=re.M)  # EnvironmentFile would win


def test_a_killed_worker_is_started_again(tmp_path: Path) -> None:
    instance = Instance(tmp_path)
    try:
        instance.start()
        assert instance.proc is not None
        deadline = time.monotonic() + 60
        while len(workers := children(instance.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(workers) == 2, workers
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = children(instance.proc.pid)
            if victim not in now and len(now) == 2:
                break
            time.sleep(0.3)
        assert instance.proc.poll() is None, "the instance shut down when one worker died"
        assert victim not in now and len(now) == 2, now
        for _ in range(6):
            assert get(instance.port, "/ops/health")[0] == 200
    finally:
        instance.stop()


def test_metrics_survive_a_rolling_restart(tmp_path: Path) -> None:
    first, second = Instance(tmp_path), Instance(tmp_path)
    try:
        first.start()
        second.start()
        assert first.runtime != second.runtime
        for instance in (first, second):
            status, body = get(instance.port, "/ops/metrics")
            assert status == 200 and b"gridgov_request_seconds" in body
        first.stop()  # the rolling restart: one instance down, its runtime directory removed
        for _ in range(3):
            get(second.port, "/ops/health")
        status, body = get(second.port, "/ops/metrics")
        assert status == 200 and b'route="ops_health"' in body
        first = Instance(tmp_path)
        first.start()
        assert get(first.port, "/ops/metrics")[0] == 200 and get(second.port, "/ops/metrics")[0] == 200
    finally:
        first.stop()
        second.stop()
