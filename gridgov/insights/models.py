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

    dangerously_unscoped = models.Manager["ReportRun"]()
    objects = ScopedManager["ReportRun"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
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


class DayFact(models.Model):
    """Pre-aggregated tallies of one local day at one unit (every unit on a case's path: its grid and
    each unit above), for all cases (category 0, channel ""), one category, or one channel.

    Built by `facts.facts_build` from the raw case rows; only the additive, by-day tallies live here
    (see facts.py for which and how the rest is added when the figures are read). Insights' own table:
    read only after the caller checked the actor may read the unit's figures."""

    day = models.DateField()
    unit_id = models.PositiveIntegerField()
    category_id = models.PositiveIntegerField(default=0)  # 0: all categories
    channel = models.CharField(max_length=10, blank=True)  # "": all channels
    dispatched = models.PositiveIntegerField(default=0)
    responded = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    handling_us = models.BigIntegerField(default=0)  # microseconds, so sums stay exact
    returned = models.PositiveIntegerField(default=0)
    reported = models.PositiveIntegerField(default=0)
    repeats = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "统计日汇总"
        verbose_name_plural = "统计日汇总"
        constraints = [
            models.UniqueConstraint(fields=["unit_id", "category_id", "channel", "day"], name="day_fact_key"),
            models.CheckConstraint(condition=Q(responded__lte=models.F("dispatched")), name="day_fact_responded"),
        ]
        indexes = [models.Index(fields=["day"], name="day_fact_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.unit_id} {self.category_id} {self.channel}"


class FactState(models.Model):
    """What the day facts reflect (one row): every day before `cutoff`, with dispatch outcomes known
    before `settled_at`, built from case history up to event `event_hwm` and case `case_hwm`, under the
    deadline settings whose digest is `fingerprint`."""

    cutoff = models.DateField()
    settled_at = models.DateTimeField()
    event_hwm = models.BigIntegerField(default=0)
    case_hwm = models.BigIntegerField(default=0)
    fingerprint = models.CharField(max_length=64)
    built_at = models.DateTimeField()
    days_built = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "统计汇总状态"
        verbose_name_plural = "统计汇总状态"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="fact_state_single_row")]

    def __str__(self) -> str:
        return f"facts before {self.cutoff}"


class ReturnFact(models.Model):
    """A repeat return (再次退回) day: one row per case and local day on which the case was returned by a
    department with at least two returns in all by that day's end. Ping-pong (来回踢皮球) over a period is the
    number of distinct cases with such a day in it (docs/measures.md; facts.repeat_return_days says why).

    Built by `facts.facts_build` with the day facts, from history rows that never change; carries the case's
    place (grid path), category and channel, which never change either, so filtered figures read it too.
    Read only after the caller checked the actor may read the unit's figures."""

    day = models.DateField()
    case_id = models.BigIntegerField()
    place = models.CharField(max_length=255)  # the case's unit_path: the grid where it happened
    category_id = models.PositiveIntegerField()
    channel = models.CharField(max_length=10)

    class Meta:
        verbose_name = "统计再次退回日"
        verbose_name_plural = "统计再次退回日"
        constraints = [models.UniqueConstraint(fields=["case_id", "day"], name="return_fact_key")]
        indexes = [models.Index(fields=["day"], name="return_fact_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.case_id}"


class MonthFact(models.Model):
    """The day facts of all cases (category 0, channel "") of one unit summed over one calendar month
    (`month` is its first day), so that a year of figures reads twelve rows per unit instead of up to 365.

    Written by `facts.facts_build` in the same transaction as the day facts, for every month with a day
    (re)built: always the sum of that month's day facts. Read only for months wholly before the facts'
    cutoff and inside the period; the other days are read from the day facts."""

    month = models.DateField()
    unit_id = models.PositiveIntegerField()
    dispatched = models.PositiveIntegerField(default=0)
    responded = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    handling_us = models.BigIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    reported = models.PositiveIntegerField(default=0)
    repeats = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "统计月汇总"
        verbose_name_plural = "统计月汇总"
        constraints = [
            models.UniqueConstraint(fields=["unit_id", "month"], name="month_fact_key"),
            models.CheckConstraint(condition=Q(month__day=1), name="month_fact_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.unit_id}"


class HeatFact(models.Model):
    """Cases reported in one calendar month with a location, counted per place (grid path) and heat cell
    (`board.HEAT_CELL`, about 500 m): the map's heat layer for a period's whole months, without a category
    filter. Written by `facts.facts_build` for every month with a day (re)built, from the cases reported
    before the facts' cutoff; a case's place, time and location never change. Read only for months wholly
    before the cutoff, after the caller checked the actor may read the unit's figures."""

    month = models.DateField()
    place = models.CharField(max_length=255)
    cy = models.IntegerField()  # floor(latitude / cell)
    cx = models.IntegerField()  # floor(longitude / cell)
    n = models.PositiveIntegerField()

    class Meta:
        verbose_name = "统计热力月汇总"
        verbose_name_plural = "统计热力月汇总"
        constraints = [models.UniqueConstraint(fields=["month", "place", "cy", "cx"], name="heat_fact_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.place} {self.cy},{self.cx}"
