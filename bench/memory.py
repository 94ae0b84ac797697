"""Peak memory per process during the bench: the RSS high-water mark (VmHWM in /proc/<pid>/status)
of each granian worker and of a Celery worker that ran the deadline sweep (bench/run.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")


def hwm_mib(pid: int) -> float | None:
    """Peak resident memory of a live process, in MiB (None when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """Every descendant of a process (granian's workers, Celery's pool processes)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found.append(kid)
            found.extend(children(kid))
    return found


def report_tree(report: Any, label: str, pid: int) -> None:
    parts = [f"main {hwm_mib(pid) or 0:.0f} MiB"]
    parts += [f"child {i} {hwm_mib(k) or 0:.0f} MiB" for i, k in enumerate(children(pid), start=1)]
    report.add(f"peak memory (VmHWM), {label}", ", ".join(parts), "", "RSS high-water mark of each process")


def redis_up() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def celery_worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """One Celery worker (concurrency 1, prefork) on the bench database and a Redis database of its own."""
    from bench import run as harness

    env = dict(env, REDIS_URL=REDIS_URL, CELERY_BROKER_URL=REDIS_URL, CELERY_RESULT_BACKEND=REDIS_URL,
               CELERY_TASK_ALWAYS_EAGER="0")
    celery = str(Path(harness.PY).parent / "celery")
    proc = subprocess.Popen([celery, "-A", "config", "worker", "-n", "bench@%h", "--concurrency", "1",
                             "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
                            cwd=harness.ROOT, env=env)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_task(task: str, timeout: float = 1800) -> tuple[Any, float]:
    """Send a task to the bench worker and wait for its result; returns (result, seconds)."""
    from celery import Celery

    from config import queues

    app = Celery("gridgov-bench", broker=REDIS_URL, backend=REDIS_URL)
    app.conf.update(queues.client_conf())  # the job goes to its kind's queue, as the app sends it
    started = time.perf_counter()
    result = app.send_task(task).get(timeout=timeout)
    return result, time.perf_counter() - started
