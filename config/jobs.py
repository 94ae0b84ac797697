"""The schedule: every periodic job, defined once. Plain data (no Django), like config/queues.py.

Two runners read it:
- at scale, Celery beat sends each job as the task `gridgov.jobs.run` with the job's name to the job's queue
  (`CELERY_BEAT_SCHEDULE` in config/settings.py is built by `beat_schedule()`), and a Celery worker runs it;
- in the embedded mode (`make demo`, one PC), the job runner (`manage.py run_jobs`, or the thread of
  `manage.py serve`) runs the same jobs in its own process.

Both go through `gridgov.interfaces.jobs.runner.job_run`: the job's lease row in the database
(`gridgov.scheduling`) makes a second runner, a second beat or an overlapping run skip the job, and
records its start, finish, counts, error and next run for the jobs page and /ops/metrics.

A job's function is `module:function`, called with the keyword `now` and returning a dict of counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# The Celery task every beat entry sends (gridgov/interfaces/jobs/tasks.py).
RUN_TASK = "gridgov.jobs.run"
DAY = 86400.0


@dataclass(frozen=True)
class JobDef:
    name: str
    label: str  # Chinese, for the jobs page
    func: str  # "module:function", called as func(now=…) -> dict[str, int]
    queue: str  # the Celery queue (config/queues.py) the job runs in at scale
    every: float | None = None  # seconds between runs, or
    cron: dict[str, Any] = field(default_factory=dict)  # celery.schedules.crontab fields, China time
    # Longest a run may take: the lease. A runner killed mid-job leaves its lease; another runner takes the
    # job again once the lease has expired.
    timeout: float = 600.0

    def __post_init__(self) -> None:
        if (self.every is None) == (not self.cron):
            raise ValueError(f"job {self.name}: give either every or cron")
        if self.every is not None and self.every < 30:
            raise ValueError(f"job {self.name}: runs at most every 30 s")

    @property
    def period(self) -> float:
        """Seconds between two runs (a cron job's longest gap): the jobs page flags a job that has not
        succeeded within twice this."""
        if self.every is not None:
            return self.every
        # A cron job runs at fixed times of the day: daily, unless it names days of the month or week.
        if self.cron.get("day_of_month"):
            return 31 * DAY
        return 7 * DAY if self.cron.get("day_of_week") else DAY

    def celery_schedule(self) -> Any:
        if self.every is not None:
            return dt.timedelta(seconds=self.every)
        from celery.schedules import crontab

        return crontab(**self.cron)


# Where the job functions live (each takes `now`, returns its counts).
_F = "gridgov.interfaces.jobs.periodic:"

JOBS: tuple[JobDef, ...] = (
    # Deadlines and the work they generate (queue "sweep").
    JobDef("cases-sweep", "事件时限巡检（预警、超期、催办、上报、自动办结）", _F + "cases_sweep",
           "sweep", every=300, timeout=900),
    JobDef("workforce-duty-sweep", "责任清单超期标记", _F + "duty_sweep", "sweep",
           every=600),
    JobDef("workforce-points-feed", "积分自动记入", _F + "points_feed", "sweep",
           every=600),
    JobDef("mediation-deadline-remind", "调解期限提醒", _F + "mediation_remind",
           "sweep", every=600),
    JobDef("processes-routines-run", "例行工作（提前生成、前一天提醒）", _F + "routines_run", "sweep",
           every=3600, timeout=1800),
    JobDef("notices-escalate", "通知到户率提醒（逾期未传达到户）", _F + "notices_escalate", "sweep",
           every=300, timeout=600),
    # Notifications (queue "outbox").
    JobDef("notify-deliver", "发送短信和消息", _F + "notify_deliver", "outbox",
           every=60, timeout=300),
    # The dashboards' day facts (queue "reports").
    JobDef("insights-facts", "统计数据更新", _F + "insights_facts", "reports",
           every=300, timeout=3600),
    # Housekeeping (queue "maintenance").
    JobDef("audit-archive", "审计日志到期归档", _F + "audit_archive", "maintenance",
           cron={"hour": 2, "minute": 30}, timeout=3600),
    JobDef("accounts-disable-idle", "停用长期未登录的账号", _F + "accounts_disable_idle",
           "maintenance", every=3600),
    JobDef("reporter-phones-purge", "清除到期的反映人电话", _F + "reporter_phones_purge",
           "maintenance", every=3600),
    JobDef("residents-exports-expire", "清理过期的导出文件", _F + "exports_expire",
           "maintenance", every=3600),
    JobDef("residents-retention", "清理超过保存期限的户情资料", _F + "residents_retention",
           "maintenance", cron={"hour": 3, "minute": 0}, timeout=3600),
    # Last: the embedded runner runs a pass in this order, so the audit rows the jobs above wrote are sealed
    # in the same pass.
    JobDef("audit-seal", "审计日志封存（防篡改）", _F + "audit_seal", "maintenance",
           every=60, timeout=300),
)

JOB_BY_NAME = {job.name: job for job in JOBS}


def beat_schedule() -> dict[str, dict[str, Any]]:
    """CELERY_BEAT_SCHEDULE: one entry per job, each sending `gridgov.jobs.run(name)` to the job's queue.
    A message older than the job's period is dropped (`expires`): a beat that ran while no worker did
    does not leave a pile of the same job behind."""
    return {
        job.name: {"task": RUN_TASK, "schedule": job.celery_schedule(), "args": (job.name,),
                   "options": {"queue": job.queue, "expires": job.period}}
        for job in JOBS
    }
