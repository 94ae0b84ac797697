"""The household ledger (户情台账): households, residents, key-group tags, links and history.

ID numbers and phones are stored only as AES-GCM ciphertext (gridgov.core.fieldcrypto), a
keyed blind index for exact search and a masked form for display; the plaintext never
reaches a column. Every model here is scoped through the household's unit path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from gridgov.access.roles import P
from gridgov.core.scoping import ScopedManager
from gridgov.units.models import Unit

if TYPE_CHECKING:
    from gridgov.access.scope import Scope


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", "在册"
    MOVED_OUT = "moved_out", "已迁出"
    MERGED = "merged", "已合户"
    DISSOLVED = "dissolved", "已销户"


class Household(models.Model):
    """A household (户), kept in the ledger of the deepest unit (grid or micro-grid) it lives in."""

    scope_path_field: ClassVar[str] = "unit__path"


    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="households", verbose_name="所属网格")
    status = models.CharField("状态", max_length=16, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE)
    address = models.CharField("地址", max_length=200)
    house_number = models.CharField("门牌号", max_length=40, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    phone_cipher = models.TextField(blank=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    phone_masked = models.CharField("联系电话", max_length=20, blank=True, editable=False)
    notes = models.TextField("备注", blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["Household"]()
    objects = ScopedManager["Household"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["id"]
        verbose_name = "户"
        verbose_name_plural = "户"
        indexes = [
            models.Index(fields=["unit", "status", "id"], name="household_unit_status_idx"),
            models.Index(fields=["phone_index"], name="household_phone_idx", condition=~Q(phone_index="")),
            models.Index(fields=["house_number"], name="household_house_number_idx"),
            # A house number within the grids of a township: one probe per grid.
            models.Index(fields=["unit", "house_number"], name="household_unit_house_idx"),
            # PostgreSQL also has a GIN index on gridgov_bigrams(address) for address fragments
            # (migration 0003; see docs/ledger.md).
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lng__isnull=True))
                | (Q(lat__gte=-90) & Q(lat__lte=90) & Q(lng__gte=-180) & Q(lng__lte=180)),
                name="household_location_pair_in_range",
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="household_merged_has_target",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="household_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.address}{self.house_number}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        # Residents' data is read only where the actor holds household.view: the system, security
        # and audit admins see units, never the people in them (三权分立).
        return scope.path_q("unit__path", P.HOUSEHOLD_VIEW)


class Relation(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    CHILD_IN_LAW = "child_in_law", "儿媳/女婿"
    PARENT = "parent", "父母"
    PARENT_IN_LAW = "parent_in_law", "岳父母/公婆"
    GRANDCHILD = "grandchild", "孙子女/外孙子女"
    GRANDPARENT = "grandparent", "祖父母/外祖父母"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER = "other", "其他"


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class PoliticalStatus(models.TextChoices):
    PARTY_MEMBER = "party_member", "中共党员"
    PROBATIONARY = "probationary", "中共预备党员"
    LEAGUE_MEMBER = "league_member", "共青团员"
    MASSES = "masses", "群众"


class Residency(models.TextChoices):
    REGISTERED = "registered", "户籍人口"
    RESIDENT = "resident", "常住人口"
    MIGRANT_IN = "migrant_in", "流入人口"
    AWAY = "away", "外出务工"


class Education(models.TextChoices):
    NONE = "none", "未上学"
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中/中专"
    COLLEGE = "college", "大专"
    BACHELOR = "bachelor", "本科及以上"


class Health(models.TextChoices):
    HEALTHY = "healthy", "健康"
    CHRONIC = "chronic", "慢性病"
    SERIOUS = "serious", "大病"
    DISABLED = "disabled", "残疾"


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", "在册"
    MOVED_OUT = "moved_out", "已迁出"
    DECEASED = "deceased", "已故"


class Resident(models.Model):
    """A person in the ledger; in one household at a time (the foreign key makes two impossible)."""

    scope_path_field: ClassVar[str] = "household__unit__path"


    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members", verbose_name="所在户")
    relation = models.CharField("与户主关系", max_length=20, choices=Relation.choices)
    name = models.CharField("姓名", max_length=40)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    id_cipher = models.TextField(editable=False)
    id_index = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField("身份证号", max_length=18, editable=False)
    phone_cipher = models.TextField(blank=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    phone_masked = models.CharField("联系电话", max_length=20, blank=True, editable=False)
    ethnicity = models.CharField("民族", max_length=20, default="汉族")
    political_status = models.CharField("政治面貌", max_length=20, choices=PoliticalStatus.choices,
                                        default=PoliticalStatus.MASSES)
    residency = models.CharField("人口类型", max_length=20, choices=Residency.choices, default=Residency.REGISTERED)
    away_place = models.CharField("外出地点", max_length=100, blank=True)
    away_since = models.DateField("外出时间", null=True, blank=True)
    education = models.CharField("文化程度", max_length=20, choices=Education.choices, blank=True)
    occupation = models.CharField("职业", max_length=60, blank=True)
    health = models.CharField("健康状况", max_length=20, choices=Health.choices, default=Health.HEALTHY)
    disability = models.CharField("残疾类别/等级", max_length=60, blank=True)
    notes = models.TextField("备注", blank=True)
    status = models.CharField("状态", max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["Resident"]()
    objects = ScopedManager["Resident"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["household_id", "id"]
        verbose_name = "人员"
        verbose_name_plural = "人员"
        indexes = [
            # Exact and prefix search on two-character names (王伟): pg_trgm needs three characters,
            # a btree with pattern ops serves `LIKE '王伟%'` and equality on PostgreSQL.
            models.Index(fields=["name"], name="resident_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name", "id"], name="resident_name_idx"),
            models.Index(fields=["household", "status"], name="resident_household_idx"),
            models.Index(fields=["id_index"], name="resident_id_index_idx"),
            models.Index(fields=["phone_index"], name="resident_phone_idx", condition=~Q(phone_index="")),
            models.Index(fields=["birth_date"], name="resident_birth_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_index"], condition=Q(status="active"), name="resident_active_id_unique",
                violation_error_message="该身份证号已在台账中登记。",
            ),
            models.UniqueConstraint(
                fields=["household"], condition=Q(status="active", relation="head"),
                name="resident_one_head_per_household",
                violation_error_message="一户只能有一位户主。",
            ),
            models.CheckConstraint(condition=Q(gender__in=["M", "F"]), name="resident_gender_valid"),
            models.CheckConstraint(condition=~Q(id_cipher="") & ~Q(id_index=""), name="resident_id_sealed"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        # Residents' data is read only where the actor holds household.view: the system, security
        # and audit admins see units, never the people in them (三权分立).
        return scope.path_q("household__unit__path", P.HOUSEHOLD_VIEW)


class AssignmentKind(models.TextChoices):
    GRID_WORKER = "grid_worker", "网格员联系户"
    PARTY_MEMBER = "party_member", "党员联系户"


class HouseholdAssignment(models.Model):
    """Who looks after a household: its grid worker (~50 households each) or a linked party member
    (党员联系户; the party member is a staff account or a resident of the ledger)."""

    scope_path_field: ClassVar[str] = "household__unit__path"


    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="assignments")
    kind = models.CharField(max_length=20, choices=AssignmentKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="household_assignments")
    party_member = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="linked_households")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")

    dangerously_unscoped = models.Manager["HouseholdAssignment"]()
    objects = ScopedManager["HouseholdAssignment"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["household_id", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(kind="grid_worker", ended_at__isnull=True),
                name="assignment_one_grid_worker",
            ),
            models.CheckConstraint(
                condition=(Q(kind="grid_worker") & Q(user__isnull=False) & Q(party_member__isnull=True))
                | (Q(kind="party_member") & (Q(user__isnull=False) | Q(party_member__isnull=False))),
                name="assignment_who_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["user", "ended_at"], name="assignment_user_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        # Residents' data is read only where the actor holds household.view: the system, security
        # and audit admins see units, never the people in them (三权分立).
        return scope.path_q("household__unit__path", P.HOUSEHOLD_VIEW)


class TagTarget(models.TextChoices):
    HOUSEHOLD = "household", "户"
    RESIDENT = "resident", "人"


class Sensitivity(models.TextChoices):
    NORMAL = "normal", "一般"
    SENSITIVE = "sensitive", "敏感"


class Tag(models.Model):
    """A key group (重点人群) in the configurable catalogue."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField("名称", max_length=40, unique=True)
    applies_to = models.CharField("适用对象", max_length=16, choices=TagTarget.choices)
    sensitivity = models.CharField("敏感级别", max_length=16, choices=Sensitivity.choices, default=Sensitivity.NORMAL)
    visit_cadence_days = models.PositiveIntegerField("走访周期（天）", null=True, blank=True)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = "重点人群标签"
        verbose_name_plural = "重点人群标签"
        constraints = [
            models.CheckConstraint(condition=Q(visit_cadence_days__isnull=True) | Q(visit_cadence_days__gte=1),
                                   name="tag_cadence_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_sensitive(self) -> bool:
        return self.sensitivity == Sensitivity.SENSITIVE


class TagAssignment(models.Model):
    """A tag on a household or a resident, from a start date until an end date (open while current)."""

    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="assignments")
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.CASCADE, related_name="tags")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.CASCADE, related_name="tags")
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    set_at = models.DateTimeField()
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    dangerously_unscoped = models.Manager["TagAssignment"]()
    objects = ScopedManager["TagAssignment"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["tag__sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(household__isnull=False, resident__isnull=True)
                | Q(household__isnull=True, resident__isnull=False),
                name="tag_assignment_one_target",
            ),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                   name="tag_assignment_ends_after_start"),
            models.UniqueConstraint(fields=["tag", "household"], condition=Q(end_date__isnull=True),
                                    name="tag_assignment_household_open_unique"),
            models.UniqueConstraint(fields=["tag", "resident"], condition=Q(end_date__isnull=True),
                                    name="tag_assignment_resident_open_unique"),
        ]
        indexes = [models.Index(fields=["tag", "end_date"], name="tag_assignment_tag_idx")]

    def __str__(self) -> str:
        return f"{self.tag_id} {self.household_id or self.resident_id}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return (scope.path_q("household__unit__path", P.HOUSEHOLD_VIEW)
                | scope.path_q("resident__household__unit__path", P.HOUSEHOLD_VIEW))


class HouseholdEvent(models.Model):
    """History of a household and its members. `changes` never holds an ID number or phone."""

    class Action(models.TextChoices):
        CREATED = "created", "建档"
        UPDATED = "updated", "修改户信息"
        MOVED = "moved", "调整网格"
        MERGED_INTO = "merged_into", "并入他户"
        MERGED_FROM = "merged_from", "他户并入"
        SPLIT_FROM = "split_from", "分户（新户）"
        SPLIT = "split", "分出新户"
        STATUS = "status", "变更状态"
        MEMBER_ADDED = "member_added", "新增成员"
        MEMBER_UPDATED = "member_updated", "修改成员"
        MEMBER_IN = "member_in", "成员迁入"
        MEMBER_OUT = "member_out", "成员迁出"
        TAGGED = "tagged", "添加标签"
        UNTAGGED = "untagged", "结束标签"
        ASSIGNED = "assigned", "联系人变更"
        IMPORTED = "imported", "导入建档"

    scope_path_field: ClassVar[str] = "household__unit__path"


    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="events")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    other_household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    changes = models.JSONField(default=dict, blank=True)
    # A tag's sensitivity travels with its history row so the page can hide it from others.
    sensitive = models.BooleanField(default=False)

    dangerously_unscoped = models.Manager["HouseholdEvent"]()
    objects = ScopedManager["HouseholdEvent"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["household", "at"], name="household_event_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.action}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        # Residents' data is read only where the actor holds household.view: the system, security
        # and audit admins see units, never the people in them (三权分立).
        return scope.path_q("household__unit__path", P.HOUSEHOLD_VIEW)


class ImportJob(models.Model):
    """One upload of an .xlsx ledger: its progress and its row-by-row report."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "正在处理"
        REJECTED = "rejected", "有错误，未导入"
        DONE = "done", "已导入"
        FAILED = "failed", "处理失败"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", "全部正确才导入"
        VALID_ONLY = "valid_only", "只导入正确的行"

    scope_path_field: ClassVar[str] = "unit__path"

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    households_created = models.PositiveIntegerField(default=0)
    residents_created = models.PositiveIntegerField(default=0)
    # [{"row": 7, "column": "身份证号", "value": "1401**********123X", "reason": "…"}]; values masked.
    errors = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=300, blank=True)

    dangerously_unscoped = models.Manager["ImportJob"]()
    objects = ScopedManager["ImportJob"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class BulkExport(models.Model):
    """A bulk export of personal data above the policy's threshold (default 500 records): it waits
    for a second person's approval, is built with a watermark (who, when), and its file is refused
    and then deleted 24 hours after it was built."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        REJECTED = "rejected", "未批准"
        APPROVED = "approved", "已批准，正在生成"
        READY = "ready", "可下载"
        EXPIRED = "expired", "已失效"

    scope_path_field: ClassVar[str] = "unit_path"

    kind = models.CharField(max_length=20, default="households")
    # The export's root: the chosen unit, or the shallowest unit where the requester may export.
    unit_path = models.CharField(max_length=255)
    # Every subtree the file covers: an approver must hold the export right over each of them.
    paths = models.JSONField(default=list)
    params = models.JSONField(default=dict, blank=True)
    row_count = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    reason = models.CharField("用途", max_length=200)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", blank=True)
    watermark = models.CharField(max_length=300, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)

    dangerously_unscoped = models.Manager["BulkExport"]()
    objects = ScopedManager["BulkExport"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-requested_at", "-id"]
        verbose_name = "批量导出"
        verbose_name_plural = "批量导出"
        indexes = [models.Index(fields=["status", "expires_at"], name="bulk_export_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                                   name="bulk_export_four_eyes"),
        ]

    def __str__(self) -> str:
        return f"E{self.pk} {self.kind} {self.row_count}"
