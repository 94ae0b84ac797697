"""The hierarchy of units: (prefecture →) county → township → area → village → grid → micro-grid, of any depth.

Each unit stores its materialised path ("/1/7/42/"), so a subtree is one indexed
prefix filter. Kinds, level names and themes are data: the five reference systems
name and count their levels differently.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q

from gridgov.core.scoping import ScopedManager


class BaseKind(models.TextChoices):
    # A prefecture-level city (地级市/州/盟) above its counties: the root of a city-wide deployment, where the
    # city office (市网格办) watches its counties. Cases, numbers and deadlines stay per county.
    PREFECTURE = "prefecture", "市（州）"
    COUNTY = "county", "县（区）"
    TOWNSHIP = "township", "乡镇"
    SUBDISTRICT = "subdistrict", "街道"
    AREA = "area", "片区"
    VILLAGE = "village", "行政村"
    COMMUNITY = "community", "社区"
    GRID = "grid", "网格"
    MICRO_GRID = "micro_grid", "微网格"


GRID_BASE_KINDS = frozenset({BaseKind.GRID, BaseKind.MICRO_GRID})
TOWNSHIP_BASE_KINDS = frozenset({BaseKind.TOWNSHIP, BaseKind.SUBDISTRICT})
VILLAGE_BASE_KINDS = frozenset({BaseKind.VILLAGE, BaseKind.COMMUNITY})


class UnitKind(models.Model):
    """A kind of unit: the eight built-in kinds and any configured custom kind (屋场网格…)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField("名称", max_length=40)
    base = models.CharField("基本类型", max_length=20, choices=BaseKind.choices)
    builtin = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = "单位类型"
        verbose_name_plural = "单位类型"

    def __str__(self) -> str:
        return self.name

    @property
    def is_grid(self) -> bool:
        return self.base in GRID_BASE_KINDS


class GridType(models.TextChoices):
    HAMLET = "hamlet", "屋场/自然村"
    RESIDENTIAL = "residential", "居民小区"
    INSTITUTION = "institution", "机关单位"
    SCENIC = "scenic", "景区"
    ENTERPRISE = "enterprise", "企业园区"
    MARKET = "market", "商贸市场"
    SCHOOL = "school", "学校"
    OTHER = "other", "其他"


class Theme(models.Model):
    """A line of work merged into the one grid (多网合一): party-building, public safety…"""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField("名称", max_length=40)

    class Meta:
        ordering = ["id"]
        verbose_name = "专题网格"
        verbose_name_plural = "专题网格"

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    scope_path_field: ClassVar[str] = "path"

    name = models.CharField("名称", max_length=80)
    kind = models.ForeignKey(UnitKind, on_delete=models.PROTECT, verbose_name="类型")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级"
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(editable=False)
    grid_level = models.PositiveSmallIntegerField("网格层级", null=True, blank=True)
    division_code = models.CharField("统计用区划代码", max_length=12, null=True, blank=True)
    serial = models.CharField("网格编号", max_length=32, blank=True)
    grid_type = models.CharField("网格类型", max_length=20, choices=GridType.choices, blank=True)
    boundary = models.JSONField("边界", null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    centroid_lng = models.FloatField(null=True, blank=True)
    themes = models.ManyToManyField(Theme, blank=True, related_name="units", verbose_name="专题")
    household_estimate = models.PositiveIntegerField("户数（估）", null=True, blank=True)
    sort_order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["Unit"]()
    objects = ScopedManager["Unit"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["path"]
        verbose_name = "单位/网格"
        verbose_name_plural = "单位/网格"
        indexes = [
            models.Index(fields=["path"], name="unit_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["parent", "sort_order"], name="unit_children_idx"),
            models.Index(fields=["name"], name="unit_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["division_code"],
                condition=Q(division_code__isnull=False),
                name="unit_division_code_unique",
                violation_error_message="该统计用区划代码已被其他单位使用。",
            ),
            models.UniqueConstraint(
                fields=["parent", "serial"],
                condition=~Q(serial=""),
                name="unit_serial_unique_in_parent",
                violation_error_message="同一上级下的网格编号不能重复。",
            ),
            models.CheckConstraint(
                condition=Q(division_code__isnull=True) | Q(division_code__regex=r"^[0-9]{12}$"),
                name="unit_division_code_12_digits",
            ),
            models.CheckConstraint(condition=Q(depth__gte=0), name="unit_depth_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_grid(self) -> bool:
        return self.kind.is_grid

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit's parent, read from the path (no query)."""
        return [int(p) for p in self.path.strip("/").split("/")[:-1]]

    def path_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/")]

    def is_descendant_of(self, other: Unit) -> bool:
        return self.path.startswith(other.path) and self.pk != other.pk


class LevelName(models.Model):
    """What a deployment calls its grid levels: 吴城乡 says 一级/二级/三级网格,
    西鹿角村 says 总网格/片区/网格/微网格. Set on the unit where the scheme starts."""

    root = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="level_names")
    level = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["root", "level"]
        constraints = [models.UniqueConstraint(fields=["root", "level"], name="level_name_unique")]

    def __str__(self) -> str:
        return f"{self.level}: {self.name}"


class UnitEvent(models.Model):
    """History of a unit: created, edited, re-zoned (moved), boundary changed."""

    class Action(models.TextChoices):
        CREATED = "created", "创建"
        UPDATED = "updated", "修改"
        MOVED = "moved", "调整隶属"
        BOUNDARY = "boundary", "修改边界"
        DEACTIVATED = "deactivated", "停用"

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    old_parent = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    new_parent = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    old_path = models.CharField(max_length=255, blank=True)
    new_path = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.action} {self.at:%Y-%m-%d}"
