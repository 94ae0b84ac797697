"""Duty lists (责任清单), the points ledger (赋分/积分) and the monthly assessment (月考核).

Scoping follows the units' materialised paths through a join (`unit__path`), so moving a unit in
the hierarchy never leaves a stale copy of its path behind:
- a duty item is seen by whoever issued its list (duty.issue over the issuing unit), by assessors
  over the item's unit (work.assess), by the named worker, and (for an item issued to a unit) by
  whoever does duty work at that unit (duty.do);
- a points entry is seen by its worker and by assessors over the worker's grid: a grid worker sees
  only their own points;
- rules, lists and assessments are seen by assessors and issuers over their unit.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q

from gridgov.access.roles import P
from gridgov.access.scope import Scope
from gridgov.core.scoping import ScopedManager


class EvidenceKind(models.TextChoices):
    NONE = "none", "无需佐证"
    TEXT = "text", "文字说明"
    PHOTO = "photo", "照片"
    TEXT_PHOTO = "text_photo", "文字说明和照片"


class DutyList(models.Model):
    """A list of tasks issued by an office (or a village) to units below it or to named workers."""

    title = models.CharField("任务名称", max_length=80)
    description = models.TextField("任务要求", max_length=2000, blank=True)
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="下发单位")
    issued_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    due_at = models.DateTimeField("完成期限")
    evidence = models.CharField("佐证要求", max_length=12, choices=EvidenceKind.choices, default=EvidenceKind.TEXT)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    dangerously_unscoped = models.Manager["DutyList"]()
    objects = ScopedManager["DutyList"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-issued_at", "-id"]
        verbose_name = "责任清单"
        verbose_name_plural = "责任清单"
        constraints = [
            models.CheckConstraint(condition=Q(evidence__in=[e.value for e in EvidenceKind]),
                                   name="duty_list_evidence_known"),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.path_q("unit__path", P.DUTY_ISSUE) | scope.path_q("unit__path", P.WORK_ASSESS)


class DutyItem(models.Model):
    """One recipient's task of a list: a unit (anyone doing duty work there may complete it) or a
    named worker. States: issued → done → confirmed; issued → overdue (the sweep) → done late →
    confirmed; the issuer may return a done item (it goes back to issued or overdue)."""

    class State(models.TextChoices):
        ISSUED = "issued", "待完成"
        OVERDUE = "overdue", "已逾期"
        DONE = "done", "待确认"
        CONFIRMED = "confirmed", "已确认"
        WITHDRAWN = "withdrawn", "已撤回"

    duty_list = models.ForeignKey(DutyList, on_delete=models.CASCADE, related_name="items")
    # The unit answerable: the target unit, or the grid of the named worker.
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="duty_items")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ISSUED)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    evidence_text = models.TextField("完成情况", max_length=1000, blank=True)
    evidence_photo = models.FileField(upload_to="duty/%Y/%m/", blank=True)
    evidence_type = models.CharField(max_length=20, blank=True)
    evidence_size = models.PositiveIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    overdue_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    dangerously_unscoped = models.Manager["DutyItem"]()
    objects = ScopedManager["DutyItem"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["due_at", "id"]
        verbose_name = "责任清单任务"
        verbose_name_plural = "责任清单任务"
        indexes = [
            models.Index(fields=["state", "due_at"], name="duty_item_state_due_idx"),
            models.Index(fields=["assignee", "state"], name="duty_item_assignee_idx"),
            models.Index(fields=["due_at"], name="duty_item_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["issued", "overdue", "done", "confirmed", "withdrawn"]),
                                   name="duty_item_state_known"),
            models.CheckConstraint(
                condition=~Q(state__in=["done", "confirmed"]) | Q(done_at__isnull=False, done_by__isnull=False),
                name="duty_item_done_has_doer"),
            models.CheckConstraint(condition=~Q(state="confirmed") | Q(confirmed_at__isnull=False),
                                   name="duty_item_confirmed_has_time"),
            models.UniqueConstraint(fields=["duty_list", "unit"], condition=Q(assignee__isnull=True),
                                    name="duty_item_unit_once"),
            models.UniqueConstraint(fields=["duty_list", "assignee"], condition=Q(assignee__isnull=False),
                                    name="duty_item_worker_once"),
        ]

    def __str__(self) -> str:
        return f"{self.duty_list_id}:{self.pk}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        q = (scope.path_q("duty_list__unit__path", P.DUTY_ISSUE) | scope.path_q("unit__path", P.WORK_ASSESS)
             | (Q(assignee__isnull=True) & scope.path_q("unit__path", P.DUTY_DO)))
        if scope.user_id is not None and scope.can(P.DUTY_DO):
            q |= Q(assignee_id=scope.user_id)
        return q

    @property
    def on_time(self) -> bool:
        return self.done_at is not None and self.done_at <= self.due_at


class DutyEvent(models.Model):
    """One history row per change of a duty item (who, what, when, note)."""

    item = models.ForeignKey(DutyItem, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    at = models.DateTimeField()
    actor = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["item_id", "at", "id"]
        verbose_name = "任务记录"
        verbose_name_plural = "任务记录"

    def __str__(self) -> str:
        return f"{self.item_id} {self.action}"

    @property
    def label(self) -> str:
        return DUTY_ACTION_LABELS.get(self.action, self.action)


DUTY_ACTION_LABELS = {"issue": "下发", "done": "提交完成", "confirm": "确认完成", "return": "退回重办",
                      "withdraw": "撤回", "overdue": "逾期"}


class PointKind(models.TextChoices):
    """What a rule scores. Events name a kind; the rule of that kind in force for the worker's
    unit (the nearest unit up the hierarchy that has one) decides the points and the cap."""

    VISIT = "visit", "入户走访"
    CASE_SELF_HANDLED = "case_self_handled", "事件自办自结"
    CASE_REPORTED_RESOLVED = "case_reported_resolved", "上报事件办结"
    CASE_OVERDUE = "case_overdue", "事件超期"
    DUTY_ON_TIME = "duty_on_time", "按时完成责任清单任务"
    DUTY_OVERDUE = "duty_overdue", "责任清单任务逾期"


class PointRule(models.Model):
    """A scoring rule, kept as data by the county or township office; every edit is audited.
    Entries keep the points they were given: editing a rule never rewrites the ledger."""

    scope_path_field: ClassVar[str] = "unit__path"

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="适用单位")
    kind = models.CharField("事项", max_length=24, choices=PointKind.choices)
    points = models.SmallIntegerField("每次分值")
    # The most a worker can gain (or lose, for a deduction) from this rule in one month; null = no cap.
    monthly_cap = models.PositiveSmallIntegerField("每月上限", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    dangerously_unscoped = models.Manager["PointRule"]()
    objects = ScopedManager["PointRule"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["unit_id", "kind"]
        verbose_name = "积分规则"
        verbose_name_plural = "积分规则"
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind"], name="point_rule_once_per_unit"),
            models.CheckConstraint(condition=Q(points__gte=-100, points__lte=100) & ~Q(points=0),
                                   name="point_rule_points_range"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in PointKind]), name="point_rule_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.points:+d}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        # Rules of the unit and of the units above it apply to everyone below: assessors and
        # workers alike read them; only points.manage edits them.
        q = scope.path_q("unit__path", P.WORK_ASSESS) | scope.path_q("unit__path", P.POINTS_MANAGE)
        ancestors = {int(p) for g in scope.grants for p in g.path.strip("/").split("/") if p}
        if ancestors:
            q |= Q(unit_id__in=sorted(ancestors))
        return q


class PointEntry(models.Model):
    """One line of a worker's points ledger. Append-only: never edited or deleted; a correction is
    a new manual entry that names the entry it corrects."""

    class Source(models.TextChoices):
        EVENT = "event", "系统记分"
        MANUAL = "manual", "人工加减分"

    worker = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="point_entries")
    # The worker's grid when the points were earned: the grid the assessment rolls them into.
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    month = models.DateField()  # first day of the local (CST) month of `at`
    source = models.CharField(max_length=8, choices=Source.choices)
    kind = models.CharField(max_length=24, blank=True)
    rule = models.ForeignKey(PointRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    points = models.SmallIntegerField()
    reason = models.CharField("理由", max_length=200)
    source_type = models.CharField(max_length=24, blank=True)
    source_id = models.CharField(max_length=40, blank=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    created_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["PointEntry"]()
    objects = ScopedManager["PointEntry"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-at", "-id"]
        verbose_name = "积分记录"
        verbose_name_plural = "积分记录"
        indexes = [
            models.Index(fields=["worker", "month"], name="point_entry_worker_month_idx"),
            models.Index(fields=["month", "unit"], name="point_entry_month_unit_idx"),
        ]
        constraints = [
            # The hook is idempotent: the same fact scores a worker once.
            models.UniqueConstraint(fields=["worker", "kind", "source_type", "source_id"],
                                    condition=Q(source="event"), name="point_entry_event_once"),
            models.CheckConstraint(condition=Q(source="event") | ~Q(reason=""), name="point_entry_manual_reason"),
            models.CheckConstraint(condition=Q(points__gte=-1000, points__lte=1000), name="point_entry_points_range"),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.points:+d} {self.reason}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("积分记录只增不改：更正请新增一条记录。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("积分记录只增不改，不能删除。")

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        q = scope.path_q("unit__path", P.WORK_ASSESS) | scope.path_q("unit__path", P.POINTS_MANAGE)
        if scope.user_id is not None and scope.grants:
            q |= Q(worker_id=scope.user_id)
        return q


class AssessmentSetting(models.Model):
    """How a unit (usually a township) turns a month into a score: score = base + points +
    duty_weight × completion rate; the best `commend_count` are commended in the circular and
    those below `floor` are named in it."""

    unit = models.OneToOneField("units.Unit", on_delete=models.PROTECT, related_name="+")
    base = models.PositiveSmallIntegerField("基础分", default=60)
    duty_weight = models.PositiveSmallIntegerField("责任清单完成率权重", default=20)
    floor = models.PositiveSmallIntegerField("合格线", default=75)
    commend_count = models.PositiveSmallIntegerField("通报表扬人数", default=3)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    dangerously_unscoped = models.Manager["AssessmentSetting"]()
    objects = ScopedManager["AssessmentSetting"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        verbose_name = "考核办法"
        verbose_name_plural = "考核办法"
        constraints = [
            models.CheckConstraint(condition=Q(floor__lte=1000) & Q(base__lte=1000) & Q(duty_weight__lte=100)
                                   & Q(commend_count__lte=50), name="assessment_setting_ranges"),
        ]

    def __str__(self) -> str:
        return f"考核办法 {self.unit_id}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.path_q("unit__path", P.WORK_ASSESS)


class Assessment(models.Model):
    """A published monthly assessment of a unit: frozen rows, the circular's source. Corrections
    after publishing are new ledger entries; they show in the next month."""

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    base = models.PositiveSmallIntegerField()
    duty_weight = models.PositiveSmallIntegerField()
    floor = models.PositiveSmallIntegerField()
    commend_count = models.PositiveSmallIntegerField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    note = models.CharField("通报说明", max_length=500, blank=True)

    dangerously_unscoped = models.Manager["Assessment"]()
    objects = ScopedManager["Assessment"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-month", "unit_id"]
        verbose_name = "月度考核"
        verbose_name_plural = "月度考核"
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="assessment_once_per_month")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%Y-%m}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.path_q("unit__path", P.WORK_ASSESS)


class AssessmentRow(models.Model):
    """One ranked line of a published assessment: a worker, or a grid (kind)."""

    class Kind(models.TextChoices):
        WORKER = "worker", "网格员"
        GRID = "grid", "网格"

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="rows")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    worker = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=80)
    grid_name = models.CharField(max_length=80, blank=True)
    points = models.IntegerField()
    items_due = models.PositiveIntegerField()
    items_on_time = models.PositiveIntegerField()
    score = models.DecimalField(max_digits=8, decimal_places=1)
    rank = models.PositiveIntegerField()
    band = models.CharField(max_length=10, blank=True)  # commended / below / ""

    class Meta:
        ordering = ["assessment_id", "kind", "rank", "id"]
        verbose_name = "考核结果"
        verbose_name_plural = "考核结果"

    def __str__(self) -> str:
        return f"{self.name} {self.score}"


class FeedCursor(models.Model):
    """How far a feed of facts from another workflow (cases, visits) has been scored: the job reads
    from a little before `position` each run (the hook is idempotent, so overlap is harmless)."""

    name = models.CharField(max_length=40, unique=True)
    position = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "记分进度"
        verbose_name_plural = "记分进度"

    def __str__(self) -> str:
        return f"{self.name} @ {self.position:%Y-%m-%d %H:%M}"
