"""Reports kept for download. Insights never writes domain data; a report run is its own record."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q

from gridgov.core.scoping import ScopedManager


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", "周报"
    MONTHLY = "monthly", "月报"
    HOTLINE_WEEKLY = "hotline_weekly", "12345热线周报"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "生成失败"


class ReportRun(models.Model):
    """One weekly or monthly report of a unit: requested, generated in the background, kept."""

    scope_path_field: ClassVar[str] = "unit__path"

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    requested_by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=200, blank=True)
    pdf = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    xlsx = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    unscoped = models.Manager["ReportRun"]()
    objects = ScopedManager["ReportRun"]()

    class Meta:
        default_manager_name = "unscoped"
        base_manager_name = "unscoped"
        ordering = ["-requested_at", "-id"]
        verbose_name = "统计报表"
        verbose_name_plural = "统计报表"
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_0_100"),
            models.CheckConstraint(condition=Q(period_start__lte=models.F("period_end")),
                                   name="report_period_ordered"),
            models.CheckConstraint(condition=~Q(status="done") | (~Q(pdf="") & ~Q(xlsx="")),
                                   name="report_done_has_files"),
        ]
        indexes = [models.Index(fields=["unit", "kind", "period_start"], name="report_unit_kind_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.kind} {self.period_start}"

    @property
    def title(self) -> str:
        kind = self.get_kind_display()
        return f"{self.unit.name}{kind}（{self.period_start:%Y-%m-%d} 至 {self.period_end:%Y-%m-%d}）"
