"""Cases (事件), their categories, history rows, attachments, form numbers and calendar overrides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from gridgov.access.roles import P
from gridgov.core.scoping import ScopedManager

from .states import ACTIVE, CLOCKED, Status

if TYPE_CHECKING:
    from gridgov.access.scope import Scope


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", "紧急"
    URGENT = "urgent", "较急"
    ORDINARY = "ordinary", "一般"
    COMPLEX = "complex", "复杂"


class Channel(models.TextChoices):
    FIELD = "field", "网格员巡查"
    HOTLINE = "hotline", "12345热线"
    WALK_IN = "walk_in", "来访"
    WECHAT = "wechat", "微信群"
    VISIT = "visit", "走访"
    MEETING = "meeting", "会议"
    PUBLIC = "public", "群众扫码"
    OPEN311 = "open311", "外部接口"


class ResolveLevel(models.TextChoices):
    """The lowest level of the hierarchy allowed to resolve a category (graded response)."""

    GRID = "grid", "网格"
    VILLAGE = "village", "村（社区）/片区"
    TOWNSHIP = "township", "乡镇（街道）"
    COUNTY = "county", "县（区）"


LEVEL_RANK = {ResolveLevel.GRID: 0, ResolveLevel.VILLAGE: 1, ResolveLevel.TOWNSHIP: 2, ResolveLevel.COUNTY: 3}
# Unit base kind → rank on the resolve ladder.
BASE_RANK = {"micro_grid": 0, "grid": 0, "village": 1, "community": 1, "area": 1,
             "township": 2, "subdistrict": 2, "county": 3}

# The defaults: emergency respond 2 h / resolve 24 h (clock hours); urgent 24 h / 3 working days;
# ordinary 24 h / 7 working days; complex 15 working days. "24 h" outside emergencies is one working day.
DEFAULT_DEADLINES: dict[str, dict[str, int]] = {
    Urgency.EMERGENCY: {"respond_hours": 2, "resolve_hours": 24},
    Urgency.URGENT: {"respond_days": 1, "resolve_days": 3},
    Urgency.ORDINARY: {"respond_days": 1, "resolve_days": 7},
    Urgency.COMPLEX: {"respond_days": 1, "resolve_days": 15},
}


def default_deadlines() -> dict[str, dict[str, int]]:
    return {k: dict(v) for k, v in DEFAULT_DEADLINES.items()}


class Category(models.Model):
    """A node of the configurable category tree (民生服务 › 供水…)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField("名称", max_length=40)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    lowest_level = models.CharField("最低办结层级", max_length=10, choices=ResolveLevel.choices,
                                    default=ResolveLevel.GRID)
    department_kind = models.CharField("默认交办部门类别", max_length=40, blank=True)
    on_site = models.BooleanField("四必到（须到场）", default=False)
    deadlines = models.JSONField("时限", default=default_deadlines)
    escalate_when_overdue = models.BooleanField("超期自动上报", default=False)
    max_extension_days = models.PositiveSmallIntegerField("延时上限（工作日）", default=10)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = "事件类别"
        verbose_name_plural = "事件类别"
        constraints = [
            models.CheckConstraint(condition=Q(max_extension_days__lte=60), name="category_extension_cap"),
        ]

    def __str__(self) -> str:
        return self.name

    def policy(self, urgency: str) -> dict[str, int]:
        return dict(self.deadlines.get(urgency) or DEFAULT_DEADLINES[urgency])


class CalendarOverride(models.Model):
    """A local change to the official calendar: an extra day off, or a working day the library lacks."""

    date = models.DateField(unique=True)
    is_workday = models.BooleanField()
    note = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "工作日调整"
        verbose_name_plural = "工作日调整"

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'}"


class CalendarYear(models.Model):
    """A year of the working calendar as the county office confirmed it: its holidays and make-up workdays
    (调休上班) as date ranges. The effective calendar is kept as CalendarOverride rows (cases/calendar.py)."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    # [{"start": "2027-02-06", "end": "2027-02-13", "workday": false, "note": "春节"}, ...]
    entries = models.JSONField(default=list)
    confirmed_at = models.DateTimeField()
    confirmed_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        ordering = ["year"]
        verbose_name = "工作日历年度"
        verbose_name_plural = "工作日历年度"

    def __str__(self) -> str:
        return f"{self.year}年工作日历"


class CalendarRevision(models.Model):
    """One saved change of the working calendar: the overrides before and after (date -> working day), which
    the deadline sweep applies to open cases' deadlines once (applied_at set when none is left)."""

    year = models.PositiveSmallIntegerField()
    saved_at = models.DateTimeField()
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    applied_at = models.DateTimeField(null=True, blank=True)
    recomputed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["id"], name="calendar_revision_pending_idx",
                                condition=Q(applied_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.year} @ {self.saved_at:%Y-%m-%d %H:%M}"


class ReferenceStamp(models.Model):
    """The reference stamp: one row (id 1) holding a random number that database triggers replace in the
    same transaction as any change to the categories or the calendar overrides, whatever makes it (a
    service, the admin, a queryset update, COPY, psql). Each app process keeps those tables under the
    stamp it read them with (cases/reference.py): a new stamp means they are read afresh."""

    value = models.BigIntegerField()

    class Meta:
        verbose_name = "基础数据戳"
        verbose_name_plural = "基础数据戳"

    def __str__(self) -> str:
        return str(self.value)


class Case(models.Model):
    # Unique by a constraint (Meta), not `unique=True`: on PostgreSQL that would add a second, LIKE
    # (varchar_pattern_ops) index that no query uses; numbers are looked up whole.
    number = models.CharField("编号", max_length=32)
    title = models.CharField("标题", max_length=80)
    description = models.TextField("内容", max_length=4000)
    # No index of its own: case_category_idx (category, status) starts with it.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases", db_index=False)
    urgency = models.CharField("紧急程度", max_length=10, choices=Urgency.choices, default=Urgency.ORDINARY)
    channel = models.CharField("来源", max_length=10, choices=Channel.choices)
    county = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    # The number prefix (编号前缀): the county's division code (first 6 digits) captured when the case was
    # made; every form number of the case uses it, so a later change of the county's code (only through
    # units.services.county_division_code_change, audited) never renumbers an existing case's forms.
    number_prefix = models.CharField(max_length=12, default="", editable=False)
    # Where it happened: the grid found by point-in-grid or chosen.
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="cases")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    # The household of the ledger the case concerns, when staff name one at intake (shown on its page).
    household = models.ForeignKey("residents.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="涉及户", db_index=False)  # case_household_idx
    # Reporter: a resident (name/phone), anonymous, or staff. Name and phone are personal data:
    # ciphertext and a masked form only (gridgov.cases.reporter); no plaintext column.
    reported_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reporter_name_cipher = models.TextField(blank=True, editable=False)
    reporter_name_masked = models.CharField("反映人", max_length=40, blank=True, editable=False)
    reporter_phone_cipher = models.TextField(blank=True, editable=False)
    reporter_phone_masked = models.CharField("联系电话", max_length=20, blank=True, editable=False)
    anonymous = models.BooleanField("匿名", default=False)
    tracking_token = models.CharField(max_length=32)  # unique by a constraint, as the number
    # The current holder (exactly one) and the unit answerable for the case.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REPORTED)
    holder_unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    # No index of its own: case_department_idx (holder_department, status) starts with it.
    holder_department = models.ForeignKey("access.Department", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="held_cases", db_index=False)
    owner_unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    owner_path = models.CharField(max_length=255)
    unit_path = models.CharField(max_length=255)
    # Deadlines of the current stage.
    respond_due = models.DateTimeField(null=True, blank=True)
    resolve_due = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    warned_for = models.DateTimeField(null=True, blank=True)
    respond_urged_for = models.DateTimeField(null=True, blank=True)
    overdue_for = models.DateTimeField(null=True, blank=True)
    overdue = models.BooleanField(default=False)
    dispatch_final = models.BooleanField(default=False)
    urge_count = models.PositiveIntegerField(default=0)
    supervised = models.BooleanField(default=False)
    extension_days_requested = models.PositiveSmallIntegerField(null=True, blank=True)
    extension_count = models.PositiveSmallIntegerField(default=0)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged",
                                    db_index=False)  # case_merged_into_idx
    result = models.TextField("办理结果", blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_note = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["Case"]()
    objects = ScopedManager["Case"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-created_at", "-id"]
        verbose_name = "事件"
        verbose_name_plural = "事件"
        indexes = [
            models.Index(fields=["owner_path"], name="case_owner_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["unit_path"], name="case_unit_path_idx", opclasses=["varchar_pattern_ops"]),
            # Nullable foreign keys, indexed only where set: every query (and every check of a foreign key)
            # looks for a given value, never for NULL, and most cases carry NULL (no entry written at intake).
            models.Index(fields=["holder_department", "status"], name="case_department_idx",
                         condition=Q(holder_department__isnull=False)),
            models.Index(fields=["household"], name="case_household_idx", condition=Q(household__isnull=False)),
            models.Index(fields=["merged_into"], name="case_merged_into_idx", condition=Q(merged_into__isnull=False)),
            models.Index(fields=["status", "resolve_due"], name="case_due_idx"),
            models.Index(fields=["category", "status"], name="case_category_idx"),
            # 督办: the few supervised cases, in deadline order.
            models.Index(fields=["resolve_due"], name="case_supervised_idx", condition=Q(supervised=True)),
            # The measures read a county's cases by when they were reported or closed (today's figures,
            # charts by day, the heat layer): without these, each such read scanned every case.
            models.Index(fields=["created_at"], name="case_created_idx"),
            models.Index(fields=["closed_at"], name="case_closed_idx", condition=Q(closed_at__isnull=False)),
            # Open now by place (the measures' snapshot), read from the index alone; and the worst overdue
            # open cases in deadline order.
            models.Index(fields=["unit_path"], name="case_open_place_idx", opclasses=["varchar_pattern_ops"],
                         include=["owner_path", "status", "resolve_due", "id"],
                         condition=Q(status__in=sorted(s.value for s in ACTIVE))),
            models.Index(fields=["resolve_due"], name="case_clocked_due_idx",
                         condition=Q(status__in=sorted(s.value for s in CLOCKED))),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(holder_unit__isnull=False, holder_department__isnull=True)
                           | Q(holder_unit__isnull=True, holder_department__isnull=False)),
                name="case_exactly_one_holder",
                violation_error_message="事件必须且只能有一个当前承办方。",
            ),
            models.CheckConstraint(
                condition=Q(holder_department__isnull=True) | Q(status__in=["dispatched", "acknowledged"]),
                name="case_department_holds_only_dispatched",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(result=""), name="case_closed_has_feedback",
                violation_error_message="办结的事件必须有办理结果。",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="case_rating_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False), name="case_merged_has_target",
            ),
            models.UniqueConstraint(fields=["idempotency_key"], condition=Q(idempotency_key__isnull=False),
                                    name="case_idempotency_key_unique"),
            models.UniqueConstraint(fields=["number"], name="case_number_unique"),
            models.UniqueConstraint(fields=["tracking_token"], name="case_tracking_token_unique"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in Status]), name="case_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Staff see cases located in or owned by their subtree; departments see what was dispatched to them."""
        q = scope.path_q("unit_path", P.CASE_VIEW) | scope.path_q("owner_path", P.CASE_VIEW)
        departments = scope.department_ids
        if departments:
            q |= Q(pk__in=CaseEvent.dangerously_unscoped.filter(to_department_id__in=departments).values("case_id"))
        return q


class CaseEvent(models.Model):
    """One history row per action: the case's timeline."""

    # The three foreign keys below have no index of their own: an index of Meta starts with each
    # (case_event_seq_unique, case_event_actor_idx, case_event_department_idx).
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=24)
    at = models.DateTimeField()
    actor = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    actor_role = models.CharField(max_length=40, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    from_unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  db_index=False)  # case_event_from_unit_idx
    to_unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_department = models.ForeignKey("access.Department", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+", db_index=False)  # case_event_from_department_idx
    to_department = models.ForeignKey("access.Department", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", db_index=False)
    note = models.TextField(blank=True, max_length=2000)
    reason_code = models.CharField(max_length=24, blank=True)
    resolve_due_before = models.DateTimeField(null=True, blank=True)
    resolve_due_after = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    dangerously_unscoped = models.Manager["CaseEvent"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")]
        indexes = [
            # Nullable foreign keys, indexed only where set (as on Case): most history rows carry NULL.
            models.Index(fields=["to_department", "case"], name="case_event_department_idx",
                         condition=Q(to_department__isnull=False)),
            models.Index(fields=["from_department"], name="case_event_from_department_idx",
                         condition=Q(from_department__isnull=False)),
            models.Index(fields=["from_unit"], name="case_event_from_unit_idx", condition=Q(from_unit__isnull=False)),
            # The measures read history by action over a period (dispatches, returns, acknowledgements).
            models.Index(fields=["action", "at"], name="case_event_action_at_idx"),
            # 已办 (cases I acted on, latest first) reads a user's own history rows.
            models.Index(fields=["actor", "case", "at"], name="case_event_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(upload_to="cases/%Y/%m/")
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    original_name = models.CharField(max_length=120, blank=True)
    uploaded_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["CaseAttachment"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class FormCounter(models.Model):
    """Running numbers of the four forms (and of cases), per county and year."""

    county = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "year", "kind"], name="form_counter_unique")]

    def __str__(self) -> str:
        return f"{self.county_id}/{self.year}/{self.kind}: {self.last}"



class ReporterDisclosure(models.Model):
    """A reporter disclosure (反映人告知): the office lets one department see who reported one case
    (the masked name and phone, and the audited unmask), for a written reason. Without one a department
    sees no part of the reporter's identity. Never made for an anonymous reporter."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", db_index=False)
    department = models.ForeignKey("access.Department", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200)
    granted_by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["ReporterDisclosure"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        constraints = [models.UniqueConstraint(fields=["case", "department"], name="reporter_disclosure_unique")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id}"
