"""Routines (例行工作): recurring work that spans workflows, kept as data (gridgov/processes/routines.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from gridgov.access.roles import P
from gridgov.core.scoping import ScopedManager

if TYPE_CHECKING:
    from gridgov.access.scope import Scope


class RoutineKind(models.TextChoices):
    TALK_DAY = "talk_day", "说事日"
    VISIT_CAMPAIGN = "visit_campaign", "集中走访"
    DUTY_LIST = "duty_list", "责任清单（例会等）"


class Routine(models.Model):
    """A recurrence (RRULE text, built from the page's presets) at a unit, and what each occurrence creates."""

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    unit_path = models.CharField(max_length=255)
    kind = models.CharField("类型", max_length=20, choices=RoutineKind.choices)
    name = models.CharField("名称", max_length=40)
    description = models.CharField("要求", max_length=400, blank=True)
    rule = models.CharField("重复规则", max_length=200)
    starts_on = models.DateField("开始日期")
    # A campaign's length, or the days a duty list gives to finish (from its date).
    span_days = models.PositiveSmallIntegerField("持续天数", default=1)
    # The person the occurrences are created as (their rights are checked each time) and who is reminded.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name="负责人")
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["Routine"]()
    objects = ScopedManager["Routine"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["unit_path", "kind", "id"]
        verbose_name = "例行工作"
        verbose_name_plural = "例行工作"
        constraints = [
            models.CheckConstraint(condition=Q(span_days__gte=1, span_days__lte=31), name="routine_span_days"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.path_q("unit_path", P.UNIT_VIEW)


class RoutineOccurrence(models.Model):
    """One date of a routine, created once (the unique constraint), with what it created and its reminder."""

    routine = models.ForeignKey(Routine, on_delete=models.CASCADE, related_name="occurrences")
    on_date = models.DateField()
    created_at = models.DateTimeField()
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["on_date", "id"]
        constraints = [models.UniqueConstraint(fields=["routine", "on_date"], name="routine_occurrence_unique")]
        indexes = [models.Index(fields=["on_date"], name="routine_occ_remind_idx",
                                condition=Q(reminded_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.routine_id} {self.on_date}"
