from __future__ import annotations

from django.db import models


class JobState(models.Model):
    """One row per scheduled job (config/jobs.py). Not scoped: a deployment-wide record of the machine's
    work, read by the jobs page (offices and the system admin) and /ops/metrics.

    The lease: a runner may run the job only after setting `lease_owner`/`lease_until` with one atomic
    UPDATE whose WHERE clause requires the lease to be free or expired (and, for the embedded runner, the
    job to be due). Of two runners, one UPDATE changes the row and the other changes nothing."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "运行中"
        OK = "ok", "成功"
        FAILED = "failed", "失败"

    name = models.CharField(max_length=64, unique=True)
    lease_owner = models.CharField(max_length=128, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    last_result = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_seconds = models.FloatField(null=True, blank=True)
    # Failures since the last success: the back-off before the next try doubles with each.
    failures_in_row = models.PositiveIntegerField(default=0)
    runs_total = models.PositiveBigIntegerField(default=0)
    failures_total = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
