"""Visits (走访 / 入户走访, the visit log 民情日记), must-visit rules (五必访) and visit campaigns (集中走访).

A visit's notes hold health and hardship details: they are stored only as AES-GCM ciphertext
(gridgov.core.fieldcrypto, purpose "visit.notes"); lists show their length, never the text. A visit
that found a problem links the case it raised through the cases intake service: by id and number
only, because workflow apps never share models (docs/architecture.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from gridgov.access.roles import P
from gridgov.core.scoping import ScopedManager
from gridgov.residents.models import Household, Tag
from gridgov.units.models import Unit

if TYPE_CHECKING:
    from gridgov.access.scope import Scope


class VisitKind(models.TextChoices):
    HOME = "home", "入户走访"
    PHONE = "phone", "电话走访"
    VIDEO = "video", "视频走访"
    CAMPAIGN = "campaign", "集中走访"


class VisitRule(models.Model):
    """A must-visit group (五必访) at a unit: households carrying `tag` (on the household or on a
    member) must be visited every `cadence_days`. The deepest rule over a household's grid decides;
    a retired rule (is_active False) there means the group is not a must-visit group under that unit."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="适用单位")
    unit_path = models.CharField(max_length=255)
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+", verbose_name="重点人群")
    cadence_days = models.PositiveIntegerField("走访周期（天）")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    version = models.PositiveIntegerField(default=1)

    dangerously_unscoped = models.Manager["VisitRule"]()
    objects = ScopedManager["VisitRule"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["unit_path", "tag__sort_order", "id"]
        verbose_name = "五必访规则"
        verbose_name_plural = "五必访规则"
        constraints = [
            models.UniqueConstraint(fields=["unit", "tag"], name="visit_rule_one_per_unit_tag",
                                    violation_error_message="该单位已有这一重点人群的走访规则。"),
            models.CheckConstraint(condition=Q(cadence_days__gte=1) & Q(cadence_days__lte=366),
                                   name="visit_rule_cadence_range"),
        ]
        indexes = [models.Index(fields=["unit_path"], name="visit_rule_path_idx")]

    def __str__(self) -> str:
        return f"{self.tag_id}@{self.unit_id}: {self.cadence_days}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        # Rules are kept by the catalogue keepers (county office): they see the rules of their subtree.
        return scope.path_q("unit_path", P.CATEGORY_MANAGE)


class VisitCampaign(models.Model):
    """A visit campaign (集中走访, at least four a year): a unit, a period and the households it covers
    (every active household of the unit's subtree, or only those of the must-visit groups)."""

    class Covers(models.TextChoices):
        ALL = "all", "全部在册户"
        MUST_VISIT = "must_visit", "五必访对象户"

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="组织单位")
    unit_path = models.CharField(max_length=255)
    name = models.CharField("名称", max_length=60)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    covers = models.CharField("走访对象", max_length=12, choices=Covers.choices, default=Covers.ALL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    dangerously_unscoped = models.Manager["VisitCampaign"]()
    objects = ScopedManager["VisitCampaign"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-starts_on", "-id"]
        verbose_name = "集中走访"
        verbose_name_plural = "集中走访"
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="visit_campaign_period"),
        ]
        indexes = [models.Index(fields=["unit_path", "starts_on"], name="visit_campaign_path_idx")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        # Seen by whoever sees the households of the unit, and by the grids under it (their workers
        # do the visiting): a campaign of a village is visible to the grid workers of its grids.
        q = scope.path_q("unit_path", P.HOUSEHOLD_VIEW)
        below = [p for p in scope.paths_for(P.HOUSEHOLD_VIEW)]
        ancestors: set[str] = set()
        for p in below:
            parts = [x for x in p.strip("/").split("/") if x]
            for i in range(1, len(parts)):
                ancestors.add("/" + "/".join(parts[:i]) + "/")
        if ancestors:
            q |= Q(unit_path__in=sorted(ancestors))
        return q


class Visit(models.Model):
    """One visit to one household (a line of the visit log)."""

    scope_path_field: ClassVar[str] = "unit_path"

    # Purged with the household when the retention job deletes it (residents.retention).
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+", verbose_name="走访户")
    # The household's grid when it was visited (a later move does not rewrite the log).
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="网格")
    unit_path = models.CharField(max_length=255)
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name="走访人")
    visited_at = models.DateTimeField("走访时间")
    kind = models.CharField("走访方式", max_length=10, choices=VisitKind.choices)
    campaign = models.ForeignKey(VisitCampaign, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="visits", verbose_name="集中走访")
    notes_cipher = models.TextField(blank=True, editable=False)
    notes_length = models.PositiveIntegerField(default=0)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    photo = models.FileField(upload_to="visits/%Y/%m/", blank=True)
    photo_type = models.CharField(max_length=20, blank=True)
    photo_size = models.PositiveIntegerField(default=0)
    problem_found = models.BooleanField("发现问题", default=False)
    # The case raised from this visit (cases.Case), by id and number: workflow apps share no models.
    case_id = models.PositiveIntegerField(null=True, blank=True)
    case_number = models.CharField(max_length=32, blank=True)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["Visit"]()
    objects = ScopedManager["Visit"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-visited_at", "-id"]
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        indexes = [
            models.Index(fields=["unit_path", "visited_at"], name="visit_path_at_idx",
                         opclasses=["varchar_pattern_ops", "timestamptz_ops"]),
            models.Index(fields=["household", "visited_at"], name="visit_household_idx"),
            models.Index(fields=["visitor", "visited_at"], name="visit_visitor_idx"),
            models.Index(fields=["campaign"], name="visit_campaign_idx", condition=Q(campaign__isnull=False)),
            # The points feed reads visits by when they were recorded (visits.selectors.worker_facts).
            models.Index(fields=["created_at"], name="visit_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], condition=Q(idempotency_key__isnull=False),
                                    name="visit_idempotency_key_unique"),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lng__isnull=True))
                | (Q(lat__gte=-90) & Q(lat__lte=90) & Q(lng__gte=-180) & Q(lng__lte=180)),
                name="visit_location_pair_in_range",
            ),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in VisitKind]), name="visit_kind_known"),
            models.CheckConstraint(condition=Q(case_id__isnull=True) | Q(problem_found=True),
                                   name="visit_case_needs_problem"),
            models.CheckConstraint(condition=~Q(kind="campaign") | Q(campaign__isnull=False),
                                   name="visit_campaign_kind_has_campaign"),
        ]

    def __str__(self) -> str:
        return f"V{self.pk} {self.household_id}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        # Visit logs are residents' data: read where the actor holds household.view (not by the admins).
        return scope.path_q("unit_path", P.HOUSEHOLD_VIEW)
