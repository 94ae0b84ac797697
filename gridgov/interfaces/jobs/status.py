"""Each scheduled job as people and Prometheus see it: its schedule in Chinese words, its last run and
whether it is healthy. One reading of the job rows serves the jobs page, the dashboard's banner and
/ops/metrics, so they never disagree.

A job is **stale** when it has not succeeded within twice its period (or never has): the red flag."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from config.jobs import JOB_BY_NAME, JOBS, JobDef
from gridgov.scheduling.models import JobState
from gridgov.scheduling.selectors import job_states

# The jobs whose staleness the offices are warned of on the dashboard: without them deadlines pass unmarked
# and nobody is told.
WATCHED = ("cases-sweep", "notify-deliver")

# The counts jobs return, in the words of the jobs page. A count without a word here shows as 其他.
RESULT_LABELS = {
    "warned": "到期预警", "respond_urged": "响应催办", "overdue": "标记超期", "escalated": "自动上报",
    "closed": "自动办结", "sent": "已发送", "sealed": "已封存",
    "checkpoints": "写入检查点", "archived": "已归档", "disabled": "停用账号",
    "expired": "清理过期", "purged": "清除电话", "residents": "清理人员", "households": "清理户",
    "import_files": "清理导入文件", "cases": "事件积分", "visits": "走访积分",
    "due_soon": "即将到期提醒", "days": "更新天数", "rows": "更新条数", "done": "完成",
    "created": "已生成", "reminded": "已提醒", "failed": "未成功", "workers": "提醒网格员", "heads": "提醒网格长和村",
}


def schedule_words(job: JobDef) -> str:
    """每 5 分钟, 每小时, 每天 02:30 …"""
    if job.every is not None:
        seconds = int(job.every)
        if seconds % 86400 == 0:
            return "每天" if seconds == 86400 else f"每 {seconds // 86400} 天"
        if seconds % 3600 == 0:
            return "每小时" if seconds == 3600 else f"每 {seconds // 3600} 小时"
        if seconds % 60 == 0:
            return "每分钟" if seconds == 60 else f"每 {seconds // 60} 分钟"
        return f"每 {seconds} 秒"
    hour, minute = job.cron.get("hour", 0), job.cron.get("minute", 0)
    when = f"{int(hour):02d}:{int(minute):02d}" if isinstance(hour, int) and isinstance(minute, int) else "定时"
    if job.cron.get("day_of_month"):
        return f"每月 {job.cron['day_of_month']} 日 {when}"
    if job.cron.get("day_of_week") is not None:
        return f"每周 {when}"
    return f"每天 {when}"


@dataclass(frozen=True)
class JobStatus:
    job: JobDef
    state: JobState | None
    stale: bool
    # "ok" 正常, "failed" 失败, "stale" 未按时运行, "running" 运行中, "never" 从未运行
    status: str

    @property
    def label(self) -> str:
        return self.job.label

    @property
    def schedule(self) -> str:
        return schedule_words(self.job)

    @property
    def status_words(self) -> str:
        return {"ok": "正常", "failed": "上次失败", "stale": "未按时运行", "running": "运行中",
                "never": "从未运行"}[self.status]

    @property
    def red(self) -> bool:
        return self.stale or self.status == "failed"

    @property
    def result_words(self) -> list[str]:
        result = (self.state.last_result if self.state else None) or {}
        return [f"{RESULT_LABELS.get(k, '其他')} {v}" for k, v in result.items()]


def _status(job: JobDef, state: JobState | None, now: dt.datetime) -> JobStatus:
    success = state.last_success_at if state else None
    stale = success is None or now - success > dt.timedelta(seconds=2 * job.period)
    if state is None or state.last_started_at is None:
        status = "never"
    elif state.last_outcome == JobState.Outcome.RUNNING and state.lease_until and state.lease_until > now:
        status = "running"
    elif state.last_outcome == JobState.Outcome.FAILED:
        status = "failed"
    elif stale:
        status = "stale"
    else:
        status = "ok"
    return JobStatus(job, state, stale, status)


def job_statuses(*, now: dt.datetime, names: tuple[str, ...] | None = None) -> list[JobStatus]:
    """Every job of the schedule (or the named ones), in the schedule's order: one query."""
    jobs = [JOB_BY_NAME[n] for n in names] if names is not None else list(JOBS)
    states = job_states(job.name for job in jobs)
    return [_status(job, states.get(job.name), now) for job in jobs]


def stale_watched(*, now: dt.datetime) -> list[JobStatus]:
    """The watched jobs (deadline sweep, outbox) that are stale, for the dashboard's banner."""
    return [s for s in job_statuses(now=now, names=WATCHED) if s.stale]
