"""Mediation cases (矛盾纠纷调解), their parties, sessions (调解记录) and history rows.

Parties' names, phones and ID numbers, the notes of each session and the agreement's terms are
personal data: AES-GCM ciphertext (core.fieldcrypto) plus a masked form for display; no plaintext
column. A mediation case never points at a case of the closed loop by foreign key (workflow apps
stay independent): a referral keeps the case's id and number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from gridgov.access.roles import P
from gridgov.core.scoping import ScopedManager

from .states import Status

if TYPE_CHECKING:
    from gridgov.access.scope import Scope

# The usual limit (司法部《人民调解工作若干规定》: 一般在一个月内调结); one extension of at most as long.
DEADLINE_DAYS = 30
MAX_EXTENSION_DAYS = 30


class DisputeType(models.TextChoices):
    NEIGHBOUR = "neighbour", "邻里纠纷"
    FAMILY = "family", "婚姻家庭纠纷"
    LAND = "land", "土地山林纠纷"
    LABOUR = "labour", "劳资纠纷"
    PROPERTY = "property", "物业纠纷"
    DAMAGES = "damages", "损害赔偿纠纷"
    OTHER = "other", "其他纠纷"


class Source(models.TextChoices):
    GRID = "grid", "网格员排查发现"
    APPLIED = "applied", "当事人申请"
    CASE = "case", "事件转调解"
    DEPARTMENT = "department", "部门移交"


class Mode(models.TextChoices):
    PEOPLE = "people", "人民调解"
    ADMINISTRATIVE = "administrative", "行政调解"
    JUDICIAL = "judicial", "司法调解"


class Level(models.TextChoices):
    """Who mediates: the grid, the village's or the township's mediation committee (调委会), the 司法所."""

    GRID = "grid", "网格调解"
    VILLAGE = "village", "村（社区）调委会"
    TOWNSHIP = "township", "乡镇（街道）调委会"
    JUSTICE_OFFICE = "justice_office", "司法所"


# Which levels each mode is run at: people's mediation by the committees (and grid mediators),
# administrative and judicial mediation by the township government and its 司法所.
MODE_LEVELS: dict[str, frozenset[str]] = {
    Mode.PEOPLE: frozenset({Level.GRID, Level.VILLAGE, Level.TOWNSHIP}),
    Mode.ADMINISTRATIVE: frozenset({Level.TOWNSHIP, Level.JUSTICE_OFFICE}),
    Mode.JUDICIAL: frozenset({Level.TOWNSHIP, Level.JUSTICE_OFFICE}),
}


class ReferralChannel(models.TextChoices):
    """Where a failed mediation sends the parties (人民调解法 Art. 26)."""

    LITIGATION = "litigation", "引导诉讼"
    ARBITRATION = "arbitration", "引导仲裁"
    ADMINISTRATIVE = "administrative", "引导行政途径（行政裁决、复议等）"
    OTHER = "other", "其他途径"


class Fulfilment(models.TextChoices):
    FULL = "full", "已全部履行"
    PARTIAL = "partial", "部分履行"
    NONE = "none", "未履行"


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", "申请人"
    RESPONDENT = "respondent", "被申请人"
    THIRD = "third", "第三人"


class MediationCase(models.Model):
    number = models.CharField("编号", max_length=32, unique=True)
    title = models.CharField("纠纷名称", max_length=80)
    summary = models.TextField("纠纷简要情况", max_length=4000)
    dispute_type = models.CharField("纠纷类型", max_length=12, choices=DisputeType.choices)
    source = models.CharField("来源", max_length=12, choices=Source.choices)
    # A referral from the closed loop (转调解): the case's id and number, no foreign key.
    source_case_id = models.BigIntegerField(null=True, blank=True)
    source_case_number = models.CharField("来源事件编号", max_length=32, blank=True)
    source_department = models.ForeignKey("access.Department", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+", verbose_name="移交部门")
    mode = models.CharField("调解方式", max_length=16, choices=Mode.choices)
    level = models.CharField("调解层级", max_length=16, choices=Level.choices)
    county = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    # Where the dispute is (scope), and the unit whose committee or office mediates (an ancestor or itself).
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="mediations")
    unit_path = models.CharField(max_length=255)
    committee_unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    committee_path = models.CharField(max_length=255)
    presiding = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="调解主持人")
    co_mediators = models.CharField("其他调解人员", max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACCEPTED)
    accepted_at = models.DateTimeField("受理时间")
    due_at = models.DateTimeField("调解期限")
    extended_days = models.PositiveSmallIntegerField(default=0)
    # The deadline each reminder was last sent for (reminders.mediation_deadline_remind): an extension
    # moves `due_at`, so the reminders of the new deadline go out again.
    due_soon_reminded_for = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_reminded_for = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The agreement (sealed) and its fulfilment.
    agreement_number = models.CharField("协议书编号", max_length=32, blank=True)
    agreement_terms_cipher = models.TextField(blank=True, editable=False)
    performance_due = models.DateField("履行期限", null=True, blank=True)
    fulfilment = models.CharField("履行情况", max_length=8, choices=Fulfilment.choices, blank=True)
    follow_up_count = models.PositiveSmallIntegerField(default=0)
    referral_channel = models.CharField("引导途径", max_length=16, choices=ReferralChannel.choices, blank=True)
    outcome_note = models.TextField("结果说明", max_length=1000, blank=True)
    registered_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["MediationCase"]()
    objects = ScopedManager["MediationCase"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-accepted_at", "-id"]
        verbose_name = "矛盾纠纷调解"
        verbose_name_plural = "矛盾纠纷调解"
        indexes = [
            models.Index(fields=["unit_path"], name="mediation_unit_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["status", "due_at"], name="mediation_due_idx"),
            models.Index(fields=["accepted_at"], name="mediation_accepted_idx"),
            models.Index(fields=["concluded_at"], name="mediation_concluded_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=[s.value for s in Status]), name="mediation_status_known"),
            models.CheckConstraint(
                condition=~Q(status="agreed") | ~Q(agreement_terms_cipher=""), name="mediation_agreed_has_terms",
                violation_error_message="达成协议必须有协议内容。",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(referral_channel=""), name="mediation_failed_has_channel",
                violation_error_message="调解不成必须写明引导的解决途径。",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["accepted", "mediating"]) | Q(concluded_at__isnull=False),
                name="mediation_concluded_has_time",
            ),
            models.CheckConstraint(condition=Q(extended_days__lte=MAX_EXTENSION_DAYS),
                                   name="mediation_extension_cap"),
            models.CheckConstraint(condition=Q(due_at__gte=models.F("accepted_at")), name="mediation_due_after"),
            # A case is referred (转调解) at most once (the referral process checks first; this holds under races).
            models.UniqueConstraint(fields=["source_case_id"], condition=Q(source_case_id__isnull=False),
                                    name="mediation_one_per_case", violation_error_message="该事件已转调解。"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Staff see the disputes located in their subtree, and those mediated by a committee in it."""
        return scope.path_q("unit_path", P.MEDIATION_VIEW) | scope.path_q("committee_path", P.MEDIATION_VIEW)

    @property
    def is_open(self) -> bool:
        return self.status in (Status.ACCEPTED, Status.MEDIATING)


class MediationParty(models.Model):
    """A party to the dispute. Name, phone and ID number: ciphertext and masked form only."""

    mediation = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="parties")
    seq = models.PositiveSmallIntegerField()
    role = models.CharField("身份", max_length=12, choices=PartyRole.choices)
    name_cipher = models.TextField(editable=False)
    name_masked = models.CharField("姓名", max_length=40, editable=False)
    phone_cipher = models.TextField(blank=True, editable=False)
    phone_masked = models.CharField("联系电话", max_length=20, blank=True, editable=False)
    id_cipher = models.TextField(blank=True, editable=False)
    id_masked = models.CharField("身份证号", max_length=20, blank=True, editable=False)

    dangerously_unscoped = models.Manager["MediationParty"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["mediation_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["mediation", "seq"], name="mediation_party_seq_unique")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name_masked}"


class MediationSession(models.Model):
    """调解记录: one sitting of the mediation. The notes are sealed."""

    mediation = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="sessions")
    seq = models.PositiveSmallIntegerField()
    held_on = models.DateField("调解日期")
    place = models.CharField("调解地点", max_length=80)
    attendees = models.CharField("参加人员", max_length=200)
    notes_cipher = models.TextField(editable=False)
    recorded_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["MediationSession"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["mediation_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["mediation", "seq"], name="mediation_session_seq_unique")]

    def __str__(self) -> str:
        return f"{self.mediation_id}#{self.seq} {self.held_on}"


class MediationEvent(models.Model):
    """One history row per action: the mediation's timeline."""

    mediation = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=24)
    at = models.DateTimeField()
    actor = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=40, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    note = models.TextField(blank=True, max_length=1000)
    due_before = models.DateTimeField(null=True, blank=True)
    due_after = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    dangerously_unscoped = models.Manager["MediationEvent"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["mediation_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["mediation", "seq"], name="mediation_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.mediation_id}#{self.seq} {self.action}"


class MediationCounter(models.Model):
    """Running numbers of mediation cases and agreements, per county and year."""

    county = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "year", "kind"], name="mediation_counter_unique")]

    def __str__(self) -> str:
        return f"{self.county_id}/{self.year}/{self.kind}: {self.last}"
