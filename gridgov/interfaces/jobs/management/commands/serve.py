"""The embedded mode in one command (what `make demo` runs): the granian app server as a child process and
the job runner (config/jobs.py) in a thread of this one. Ctrl-C or SIGTERM stops both: the runner after the
job in progress, granian (its process group: main process and workers) after its requests. If granian stops
by itself, the runner stops too. granian's main process is told to end with this process (Linux
PR_SET_PDEATHSIG), so even a SIGKILL here leaves no server behind."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from gridgov.interfaces.jobs.runner import JobRunner

log = logging.getLogger("gridgov.jobs")
PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError):  # not Linux: Ctrl-C still reaches both through the process group
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start_child() -> None:  # runs in the child between fork and exec
    os.setpgid(0, 0)
    _end_with_parent()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _stop_group(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to granian's group (main process and workers), SIGKILL to whatever is left after 30 s, and to
    any worker left behind by a main process that is already gone."""
    pgid = server.pid  # setpgid(0, 0): the group is named after granian's main process
    _signal_group(pgid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        _signal_group(pgid, signal.SIGKILL)
        server.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.2)
    _signal_group(pgid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class Command(BaseCommand):
    help = "单机运行：网页服务和定时任务一起启动，Ctrl-C 一起停止。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--blocking-threads", type=int, default=8)
        parser.add_argument("--no-jobs", action="store_true", help="不运行定时任务（由 Celery 或另一台机器运行）")

    def handle(self, *args: Any, **options: Any) -> None:
        granian = Path(sys.executable).parent / "granian"
        cmd = [str(granian), "--interface", "wsgi", "--host", options["host"], "--port", str(options["port"]),
               "--workers", str(options["workers"]), "--blocking-threads", str(options["blocking_threads"]),
               "--log-level", "warning", "config.wsgi:application"]
        stop = threading.Event()

        def on_signal(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        # granian in a process group of its own: its workers are stopped with it (the group), and a Ctrl-C
        # reaches it through this process only, so the two stop in order.
        server = subprocess.Popen(cmd, cwd=settings.BASE_DIR, preexec_fn=_start_child)  # noqa: S603
        runner = JobRunner(tick=settings.GRIDGOV_JOB_TICK, stop=stop)
        thread = threading.Thread(target=runner.run_forever, name="job-runner", daemon=True)
        if not options["no_jobs"]:
            thread.start()
        while not stop.is_set() and server.poll() is None:
            stop.wait(0.5)
        stop.set()
        _stop_group(server)
        if thread.is_alive():
            thread.join(120)  # the job in progress finishes (its lease would otherwise hold it until expiry)
        if server.returncode not in (0, -signal.SIGTERM, -signal.SIGINT, None):
            sys.exit(server.returncode if server.returncode > 0 else 1)
