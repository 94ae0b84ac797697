"""The embedded job runner: runs the schedule (config/jobs.py) in this process until stopped.

Beside `make demo`'s granian it runs as a thread of `manage.py serve`; on its own it serves a machine that
has no Celery (a second runner against the same database is safe: each job's lease lets one run it).
Not for deployments where Celery beat runs the schedule: there, beat and the workers do it."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.jobs import JOB_BY_NAME, JOBS
from gridgov.interfaces.jobs.runner import JobRunner


class Command(BaseCommand):
    help = "运行定时任务（单机模式）：按计划执行事件巡检、短信发送、审计封存等。Ctrl-C 停止。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="只执行一轮到期的任务，然后退出")
        parser.add_argument("--job", action="append", default=[], help="只运行这个任务（可重复）")
        parser.add_argument("--tick", type=float, default=None, help="每隔几秒检查一次（默认 5）")

    def handle(self, *args: Any, **options: Any) -> None:
        unknown = [n for n in options["job"] if n not in JOB_BY_NAME]
        if unknown:
            raise CommandError(f"没有这个定时任务：{'、'.join(unknown)}")
        jobs = [JOB_BY_NAME[n] for n in options["job"]] if options["job"] else list(JOBS)
        runner = JobRunner(tick=options["tick"] or settings.GRIDGOV_JOB_TICK, jobs=jobs)
        if options["once"]:
            for outcome in runner.run_once():
                self.stdout.write(f"{outcome.job}: {'ok' if outcome.ok else 'failed'} {outcome.result}"
                                  f"{' ' + outcome.error if outcome.error else ''}")
            return

        def stop(signum: int, frame: Any) -> None:
            runner.stop.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        thread = threading.Thread(target=runner.run_forever, name="job-runner")
        thread.start()
        while thread.is_alive():
            thread.join(1)
