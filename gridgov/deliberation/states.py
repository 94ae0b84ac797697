"""The six stages of a proposal (提事 谋事 亮事 定事 审事 评事) as data: stages, one transition table.

Every stage change goes through `services.proposal_act` (the workflow engine, core/workflow.py),
which looks the action up here. docs/workflows/deliberation.md is generated from this module. A vote is
not a stage action: ballots and paper tallies are written by `services.vote_cast` /
`services.vote_tally` while the proposal is in the voting stage, and `close_vote` computes the
result from them (`rules.decide`), never from a typed-in outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from gridgov.access.roles import P
from gridgov.core.workflow import Action as WorkflowAction
from gridgov.core.workflow import StatusSpec, StatusType


class Stage(models.TextChoices):
    PROPOSED = "proposed", "提事"  # raised, waiting to be taken up
    CONSULTING = "consulting", "谋事"  # opinions gathered (四议: branch, committees, party members)
    PUBLISHING = "publishing", "亮事"  # the matter is on public notice before the vote
    VOTING = "voting", "定事"  # the meeting of representatives votes
    IMPLEMENTING = "implementing", "审事"  # carried out under supervision
    EVALUATING = "evaluating", "评事"  # residents rate the result
    CLOSED = "closed", "已办结"
    REJECTED = "rejected", "未通过"
    WITHDRAWN = "withdrawn", "已撤回"


# The six stages in order, for the timeline.
SIX_STAGES: tuple[Stage, ...] = (Stage.PROPOSED, Stage.CONSULTING, Stage.PUBLISHING, Stage.VOTING,
                                 Stage.IMPLEMENTING, Stage.EVALUATING)
TERMINAL = frozenset({Stage.CLOSED, Stage.WITHDRAWN})
# A rejected proposal may be taken back to consultation and voted again.
ACTIVE = frozenset(s for s in Stage if s not in TERMINAL)


STAGE_TYPES: dict[str, StatusType] = {
    Stage.PROPOSED: StatusType.OPEN, Stage.CONSULTING: StatusType.IN_PROGRESS,
    Stage.PUBLISHING: StatusType.IN_PROGRESS, Stage.VOTING: StatusType.IN_PROGRESS,
    Stage.IMPLEMENTING: StatusType.IN_PROGRESS, Stage.EVALUATING: StatusType.IN_PROGRESS,
    Stage.CLOSED: StatusType.DONE, Stage.REJECTED: StatusType.REJECTED, Stage.WITHDRAWN: StatusType.REJECTED,
}
STAGE_SPECS = tuple(StatusSpec(s.value, s.label, STAGE_TYPES[s]) for s in Stage)


@dataclass(frozen=True)
class Action(WorkflowAction):
    """A stage action: `targets` are the stages it may lead to (empty: the stage does not change, as
    for a note or a progress entry); close_vote has three, and the computed result decides."""


_EARLY = frozenset({Stage.PROPOSED, Stage.CONSULTING, Stage.PUBLISHING, Stage.REJECTED})

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        Action("start_consult", "开始谋事", frozenset({Stage.PROPOSED}), frozenset({Stage.CONSULTING}),
               P.DELIBERATION_MANAGE, hint="受理此事，开始征求意见"),
        Action("consult_note", "记录意见", frozenset({Stage.CONSULTING}), frozenset(),
               P.DELIBERATION_MANAGE, hint="党组织提议、两委商议、党员大会审议或群众意见"),
        Action("publish", "公示（亮事）", frozenset({Stage.CONSULTING}), frozenset({Stage.PUBLISHING}),
               P.DELIBERATION_MANAGE, hint="公示拟表决的事项，公示期不少于 5 天"),
        Action("open_vote", "召开表决会议", frozenset({Stage.PUBLISHING}), frozenset({Stage.VOTING}),
               P.DELIBERATION_MANAGE, hint="公示期满后，召开村民代表会议或户代表会议表决"),
        Action("close_vote", "结束表决，计算结果", frozenset({Stage.VOTING}),
               frozenset({Stage.IMPLEMENTING, Stage.REJECTED, Stage.PUBLISHING}), P.DELIBERATION_MANAGE,
               hint="按到会和赞成人数自动计算：通过则实施，不通过则退回，不足法定人数须另行召开"),
        Action("progress", "记录实施进度", frozenset({Stage.IMPLEMENTING}), frozenset(),
               P.DELIBERATION_MANAGE, hint="村务监督委员会全程监督，记录每一步进展"),
        Action("complete", "实施完成", frozenset({Stage.IMPLEMENTING}), frozenset({Stage.EVALUATING}),
               P.DELIBERATION_MANAGE, hint="公开实施结果，开始回访评议"),
        Action("evaluate", "登记评议", frozenset({Stage.EVALUATING}), frozenset(),
               P.DELIBERATION_MANAGE, hint="回访群众，登记满意、基本满意或不满意"),
        Action("close", "评议结束，办结", frozenset({Stage.EVALUATING}), frozenset({Stage.CLOSED}),
               P.DELIBERATION_MANAGE),
        Action("reconsult", "修改后重新谋事", frozenset({Stage.REJECTED}), frozenset({Stage.CONSULTING}),
               P.DELIBERATION_MANAGE, hint="表决未通过，修改方案后重新征求意见"),
        Action("withdraw", "撤回", _EARLY, frozenset({Stage.WITHDRAWN}), P.DELIBERATION_MANAGE,
               hint="须说明理由"),
    )
}


def actions_from(stage: str) -> list[Action]:
    return [a for a in ACTIONS.values() if a.allowed_from(stage)]
