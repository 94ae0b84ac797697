"""Deliberation (群众议事): talk days, proposals through the six stages, consultation notes, the vote
(meeting, eligible voters, ballots or a paper tally), progress entries and residents' evaluations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from gridgov.access.roles import P
from gridgov.core.scoping import ScopedManager

from .rules import Base, Result
from .states import Stage

if TYPE_CHECKING:
    from gridgov.access.scope import Scope


class Category(models.TextChoices):
    INFRASTRUCTURE = "infrastructure", "基础设施（修路、水利、路灯）"
    ENVIRONMENT = "environment", "人居环境"
    COLLECTIVE = "collective", "集体资产、资金、资源"
    WELFARE = "welfare", "民生保障"
    INDUSTRY = "industry", "产业发展"
    RULES = "rules", "村规民约"
    OTHER = "other", "其他"


class Source(models.TextChoices):
    TALK_DAY = "talk_day", "支部说事日"
    VISIT = "visit", "入户走访"
    GROUP = "group", "微信群 / 周五说事"
    SURVEY = "survey", "民意调查"
    MEETING = "meeting", "会议"
    STAFF = "staff", "村（社区）提出"


class Body(models.TextChoices):
    """Who votes (定事)."""

    REPRESENTATIVES = "representatives", "村（居）民代表会议"
    HOUSEHOLDS = "households", "户代表会议"
    ASSEMBLY = "assembly", "村（居）民会议"


class VoteMode(models.TextChoices):
    BALLOTS = "ballots", "逐人记票"
    TALLY = "tally", "纸质表决票汇总录入"


class Choice(models.TextChoices):
    FOR = "for", "赞成"
    AGAINST = "against", "反对"
    ABSTAIN = "abstain", "弃权"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class ConsultKind(models.TextChoices):
    """四议: the branch proposes, the two committees discuss, the party members review (the fourth,
    the representatives' resolution, is the vote); and opinions gathered from residents."""

    BRANCH = "branch", "党组织提议"
    COMMITTEES = "committees", "村两委会议商议"
    PARTY_MEMBERS = "party_members", "党员大会审议"
    RESIDENTS = "residents", "征求群众意见"
    EXPERTS = "experts", "部门、专家意见"


class TalkDay(models.Model):
    """支部说事日 / 周五说事: a fixed day on which residents raise matters with the branch."""

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="村（社区）")
    unit_path = models.CharField(max_length=255)
    held_on = models.DateField("日期")
    topic = models.CharField("主题", max_length=80, blank=True)
    matters_heard = models.PositiveIntegerField("收集事项数", default=0)
    created_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["TalkDay"]()
    objects = ScopedManager["TalkDay"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-held_on", "-id"]
        verbose_name = "说事日"
        verbose_name_plural = "说事日"
        constraints = [models.UniqueConstraint(fields=["unit", "held_on"], name="talk_day_unit_date_unique")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.topic}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.path_q("unit_path", P.DELIBERATION_VIEW)


class Proposal(models.Model):
    """A matter the residents deliberate: raised (提事), consulted (谋事), published (亮事), voted
    (定事), carried out under supervision (审事) and evaluated (评事)."""

    number = models.CharField("编号", max_length=32, unique=True)
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="村（社区）或网格")
    unit_path = models.CharField(max_length=255)
    title = models.CharField("议题", max_length=80)
    description = models.TextField("内容", max_length=4000)
    category = models.CharField("类别", max_length=20, choices=Category.choices)
    source = models.CharField("来源", max_length=12, choices=Source.choices)
    talk_day = models.ForeignKey(TalkDay, null=True, blank=True, on_delete=models.PROTECT, related_name="proposals",
                                 verbose_name="来自说事日")
    # Raised by staff (raised_by) or by a resident, whose name is sealed (only the mask is shown).
    raised_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    raiser_name_cipher = models.TextField(blank=True, editable=False)
    raiser_name_masked = models.CharField("提事人", max_length=40, blank=True, editable=False)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.PROPOSED)
    # When each stage began (the six-stage timeline); cleared only by a new round after a rejection.
    proposed_at = models.DateTimeField()
    consulting_at = models.DateTimeField(null=True, blank=True)
    publishing_at = models.DateTimeField(null=True, blank=True)
    voting_at = models.DateTimeField(null=True, blank=True)
    implementing_at = models.DateTimeField(null=True, blank=True)
    evaluating_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # 亮事: the public notice and its period.
    notice_text = models.TextField("公示内容", blank=True, max_length=4000)
    notice_start = models.DateField("公示开始", null=True, blank=True)
    notice_end = models.DateField("公示截止", null=True, blank=True)
    # 定事: the result of the latest vote, computed by the service.
    result = models.CharField("表决结果", max_length=12, choices=Result.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # 审事: implementation.
    implemented_at = models.DateTimeField(null=True, blank=True)
    outcome_text = models.TextField("实施结果", blank=True, max_length=2000)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["Proposal"]()
    objects = ScopedManager["Proposal"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["-proposed_at", "-id"]
        verbose_name = "议事事项"
        verbose_name_plural = "议事事项"
        indexes = [
            models.Index(fields=["unit_path"], name="proposal_unit_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["stage", "proposed_at"], name="proposal_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=[s.value for s in Stage]), name="proposal_stage_known"),
            models.CheckConstraint(
                condition=Q(notice_start__isnull=True) | Q(notice_end__gte=models.F("notice_start")),
                name="proposal_notice_period_ordered",
                violation_error_message="公示截止日期不能早于开始日期。",
            ),
            # A proposal only gets past the vote with a passing result.
            models.CheckConstraint(
                condition=~Q(stage__in=["implementing", "evaluating"]) | Q(result="passed"),
                name="proposal_implemented_only_if_passed",
            ),
            models.CheckConstraint(condition=Q(result="") | Q(result__in=[r.value for r in Result]),
                                   name="proposal_result_known"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.path_q("unit_path", P.DELIBERATION_VIEW)


class ProposalEvent(models.Model):
    """One history row per action: the proposal's timeline."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=24)
    at = models.DateTimeField()
    actor = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=40, blank=True)
    from_stage = models.CharField(max_length=16, blank=True)
    to_stage = models.CharField(max_length=16)
    note = models.TextField(blank=True, max_length=2000)
    detail = models.JSONField(default=dict, blank=True)

    dangerously_unscoped = models.Manager["ProposalEvent"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["proposal_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["proposal", "seq"], name="proposal_event_seq_unique")]
        indexes = [models.Index(fields=["action", "at"], name="proposal_event_action_at_idx")]

    def __str__(self) -> str:
        return f"{self.proposal_id}#{self.seq} {self.action}"


class ConsultationNote(models.Model):
    """谋事: an opinion gathered on the proposal, and where it came from."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField("意见来源", max_length=16, choices=ConsultKind.choices)
    text = models.TextField("意见", max_length=2000)
    opinions = models.PositiveIntegerField("收集意见条数", default=1)
    adopted = models.PositiveIntegerField("采纳条数", default=0)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    dangerously_unscoped = models.Manager["ConsultationNote"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(adopted__lte=models.F("opinions")),
                                   name="consultation_adopted_le_opinions",
                                   violation_error_message="采纳条数不能多于收集条数。"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:20]}"


class VoteMeeting(models.Model):
    """定事: one meeting that votes on a proposal, with its quorum and pass rules as data."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="meetings")
    body = models.CharField("表决主体", max_length=16, choices=Body.choices)
    mode = models.CharField("记票方式", max_length=8, choices=VoteMode.choices)
    held_at = models.DateTimeField("会议时间")
    place = models.CharField("地点", max_length=80, blank=True)
    eligible = models.PositiveIntegerField("应到人数")
    # Quorum: attending / eligible must exceed (strict) or reach the fraction. Default: more than half.
    quorum_numerator = models.PositiveSmallIntegerField(default=1)
    quorum_denominator = models.PositiveSmallIntegerField(default=2)
    quorum_strict = models.BooleanField(default=True)
    # Pass: votes for / base (attending or eligible). Default: more than half of those attending.
    pass_numerator = models.PositiveSmallIntegerField(default=1)
    pass_denominator = models.PositiveSmallIntegerField(default=2)
    pass_strict = models.BooleanField(default=True)
    pass_base = models.CharField(max_length=10, choices=Base.choices, default=Base.ATTENDING)
    # Paper tally (mode "tally"): typed from the counted ballots; null until entered.
    tally_attending = models.PositiveIntegerField(null=True, blank=True)
    tally_for = models.PositiveIntegerField(null=True, blank=True)
    tally_against = models.PositiveIntegerField(null=True, blank=True)
    tally_abstain = models.PositiveIntegerField(null=True, blank=True)
    # Closed by close_vote; the counts and the result are copied here from the ballots or tally.
    closed_at = models.DateTimeField(null=True, blank=True)
    attending = models.PositiveIntegerField(null=True, blank=True)
    votes_for = models.PositiveIntegerField(null=True, blank=True)
    votes_against = models.PositiveIntegerField(null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(null=True, blank=True)
    result = models.CharField(max_length=12, choices=Result.choices, blank=True)
    opened_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    dangerously_unscoped = models.Manager["VoteMeeting"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["held_at", "id"]
        constraints = [
            # One open meeting per proposal at a time.
            models.UniqueConstraint(fields=["proposal"], condition=Q(closed_at__isnull=True),
                                    name="vote_meeting_one_open"),
            models.CheckConstraint(condition=Q(eligible__gte=1), name="vote_meeting_has_voters"),
            models.CheckConstraint(
                condition=Q(quorum_denominator__gte=1, pass_denominator__gte=1,
                            quorum_numerator__lte=models.F("quorum_denominator"),
                            pass_numerator__lte=models.F("pass_denominator")),
                name="vote_meeting_rules_are_fractions",
            ),
            models.CheckConstraint(
                condition=Q(tally_attending__isnull=True) | Q(
                    tally_attending__lte=models.F("eligible"),
                    tally_for__isnull=False, tally_against__isnull=False, tally_abstain__isnull=False),
                name="vote_meeting_tally_complete",
            ),
            models.CheckConstraint(
                condition=Q(tally_attending__isnull=True) | Q(
                    tally_attending__gte=models.F("tally_for") + models.F("tally_against") + models.F("tally_abstain")),
                name="vote_meeting_tally_fits_attending",
                violation_error_message="赞成、反对、弃权合计不能多于到会人数。",
            ),
            models.CheckConstraint(condition=~Q(mode="ballots") | Q(tally_attending__isnull=True),
                                   name="vote_meeting_ballots_have_no_tally"),
            models.CheckConstraint(condition=Q(closed_at__isnull=True) | ~Q(result=""),
                                   name="vote_meeting_closed_has_result"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.get_body_display()} {self.held_at:%Y-%m-%d}"


class Voter(models.Model):
    """An eligible voter of a meeting: a village representative or a household's representative.
    The name is sealed; pages show the mask (王*)."""

    meeting = models.ForeignKey(VoteMeeting, on_delete=models.CASCADE, related_name="voters")
    seq = models.PositiveIntegerField("序号")
    name_cipher = models.TextField(editable=False)
    name_masked = models.CharField("姓名", max_length=40, editable=False)
    household = models.ForeignKey("residents.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    attended = models.BooleanField("到会", default=False)

    dangerously_unscoped = models.Manager["Voter"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["meeting_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "seq"], name="voter_seq_unique"),
            models.UniqueConstraint(fields=["meeting", "household"], condition=Q(household__isnull=False),
                                    name="voter_one_per_household"),
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.name_masked}"


class Ballot(models.Model):
    """One voter's vote. The unique constraint is what makes a second vote impossible."""

    meeting = models.ForeignKey(VoteMeeting, on_delete=models.CASCADE, related_name="ballots")
    voter = models.ForeignKey(Voter, on_delete=models.CASCADE, related_name="ballots")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    dangerously_unscoped = models.Manager["Ballot"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["meeting_id", "voter_id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "voter"], name="ballot_one_per_voter",
                                    violation_error_message="该代表已经投过票，不能重复投票。"),
            models.CheckConstraint(condition=Q(choice__in=[c.value for c in Choice]), name="ballot_choice_known"),
        ]

    def __str__(self) -> str:
        return f"{self.voter_id}: {self.choice}"


class ProgressEntry(models.Model):
    """审事: a step of the implementation, recorded under the supervisors' eyes."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="progress")
    at = models.DateTimeField()
    text = models.TextField("进展", max_length=2000)
    percent = models.PositiveSmallIntegerField("完成比例", default=0)
    recorded_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    dangerously_unscoped = models.Manager["ProgressEntry"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=Q(percent__lte=100), name="progress_percent_0_100")]

    def __str__(self) -> str:
        return f"{self.percent}% {self.text[:20]}"


class Evaluation(models.Model):
    """评事: one resident's rating of the result, collected on a return visit. Anonymous: who answered
    is not kept, only how many and how satisfied."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="evaluations")
    satisfaction = models.CharField("满意度", max_length=12, choices=Satisfaction.choices)
    comment = models.CharField("意见", max_length=200, blank=True)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    dangerously_unscoped = models.Manager["Evaluation"]()

    class Meta:
        default_manager_name = "dangerously_unscoped"
        base_manager_name = "dangerously_unscoped"
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=Q(satisfaction__in=[s.value for s in Satisfaction]),
                                              name="evaluation_satisfaction_known")]

    def __str__(self) -> str:
        return self.satisfaction
