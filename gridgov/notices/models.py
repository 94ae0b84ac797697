"""Notices (通知传达): a notice from an office (or a grid head) to the households of its scope units,
one delivery row per household, who reached it how and when, and the residents' replies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from gridgov.access.roles import P
from gridgov.core.scoping import ScopedManager

if TYPE_CHECKING:
    from gridgov.access.scope import Scope


class Grade(models.TextChoices):
    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"
    CRITICAL = "critical", "特急"


# Hours from sending by which every household of the scope should be reached, per grade. Copied onto
# the notice when it is created (`Notice.reach_hours`), so a later change does not move old deadlines.
REACH_HOURS: dict[str, int] = {Grade.NORMAL: 72, Grade.URGENT: 12, Grade.CRITICAL: 2}


class Notice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PENDING = "pending", "待审核"
        SENT = "sent", "传达中"
        CLOSED = "closed", "已结束"
        WITHDRAWN = "withdrawn", "已撤回"

    # The sending unit (the office's or grid head's unit); its subtree's offices see the notice.
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="发出单位")
    unit_path = models.CharField(max_length=255)
    title = models.CharField("标题", max_length=80)
    text = models.TextField("内容", max_length=4000)
    grade = models.CharField("紧急程度", max_length=10, choices=Grade.choices, default=Grade.NORMAL)
    reach_hours = models.PositiveIntegerField("传达时限（小时）")
    # Only households with one of these key-group tags (on the household or one of its residents); empty: all.
    tag_codes = models.JSONField("只发给这些重点人群", default=list, blank=True)
    reply_asked = models.BooleanField("需要回复（收到/有困难）", default=False)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    households = models.PositiveIntegerField("户数", default=0)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["Notice"]()
    objects = ScopedManager["Notice"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-created_at", "-id"]
        verbose_name = "通知"
        verbose_name_plural = "通知"

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Offices of the sending unit's subtree, and whoever can see one of its target units."""
        down = scope.path_q("unit_path", P.NOTICE_VIEW)
        paths = scope.paths_for(P.NOTICE_VIEW)
        # A scope unit inside the viewer's subtree, or one the viewer lies inside (a grid worker's grid
        # under a village-wide notice): the viewer's paths' ancestors, "/1/", "/1/3/", "/1/3/5/".
        above = {p[: i + 1] for p in paths for i, ch in enumerate(p) if ch == "/" and i > 0}
        targets = NoticeUnit.objects.filter(scope.path_q("unit_path", P.NOTICE_VIEW) | Q(unit_path__in=above))
        return down | Q(pk__in=targets.values("notice_id"))


class NoticeUnit(models.Model):
    """One scope unit of a notice: its households (the whole subtree) are the notice's households."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="targets")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    unit_path = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "unit"], name="notice_unit_unique")]

    def __str__(self) -> str:
        return self.unit_path


class Delivery(models.Model):
    """One household of a notice's scope: whether, how, by whom and when it was reached."""

    class State(models.TextChoices):
        PENDING = "pending", "未告知"
        REACHED = "reached", "已告知"
        UNREACHABLE = "unreachable", "无法联系"

    class How(models.TextChoices):
        PHONE = "phone", "已电话告知"
        DOOR = "door", "已上门告知"
        GROUP = "group", "已在群内确认"
        LINK = "link", "本人打开链接"
        RECEIPT = "receipt", "本人回复"

    scope_path_field = "unit_path"

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    household = models.ForeignKey("residents.Household", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="网格")
    unit_path = models.CharField(max_length=255)
    state = models.CharField("传达情况", max_length=12, choices=State.choices, default=State.PENDING)
    how = models.CharField("方式", max_length=10, choices=How.choices, blank=True)
    reason = models.CharField("无法联系原因", max_length=200, blank=True)
    by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(null=True, blank=True)
    # The household's public link (/p/n/<token>/): random, unguessable, made by the database at sending.
    token = models.CharField(max_length=40, unique=True)

    dangerously_unscoped = models.Manager["Delivery"]()
    objects = ScopedManager["Delivery"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["unit_path", "household_id"]
        verbose_name = "传达记录"
        verbose_name_plural = "传达记录"
        constraints = [models.UniqueConstraint(fields=["notice", "household"], name="delivery_notice_household")]
        indexes = [models.Index(fields=["notice", "unit_path", "state"], name="delivery_notice_path_state")]

    def __str__(self) -> str:
        return f"{self.notice_id}/{self.household_id} {self.state}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.path_q("unit_path", P.NOTICE_VIEW)


class Reply(models.Model):
    """A resident's answer through the household's link: 收到, or 有困难 with a short text."""

    class Kind(models.TextChoices):
        RECEIVED = "received", "收到"
        DIFFICULTY = "difficulty", "有困难"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="replies")
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="replies")
    unit_path = models.CharField(max_length=255)
    kind = models.CharField("回复", max_length=12, choices=Kind.choices)
    text = models.CharField("困难说明", max_length=200, blank=True)
    at = models.DateTimeField()
    # The case a 有困难 reply became (转为事件), by number: notices import no case model.
    case_number = models.CharField(max_length=32, blank=True)
    handled_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    dangerously_unscoped = models.Manager["Reply"]()
    objects = ScopedManager["Reply"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-at", "-id"]
        verbose_name = "回复"
        verbose_name_plural = "回复"

    def __str__(self) -> str:
        return self.get_kind_display()

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.path_q("unit_path", P.NOTICE_VIEW)


class NoticeEvent(models.Model):
    """The notice's history: one row per status change (the workflow engine's history row)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} → {self.to_status}"
