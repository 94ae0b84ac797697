"""The duty item workflow as data: its states with their status types, and one transition table.

issued → done (with the evidence the list asks for) → confirmed; issued → overdue (the sweep) →
done late → confirmed; the issuer may return a done item (back to issued, or overdue when past
due); withdrawing a list withdraws its open items. Every change goes through the workflow engine
(core/workflow.py) with `services.DutyFlow`; docs/workflows/duty.md is generated from this module.
"""

from __future__ import annotations

from gridgov.access.roles import P
from gridgov.core.workflow import Action, StatusSpec, StatusType

from .models import DutyItem

State = DutyItem.State

STATE_TYPES: dict[str, StatusType] = {
    State.ISSUED: StatusType.OPEN, State.OVERDUE: StatusType.IN_PROGRESS, State.DONE: StatusType.IN_PROGRESS,
    State.CONFIRMED: StatusType.DONE, State.WITHDRAWN: StatusType.REJECTED,
}
STATE_SPECS = tuple(StatusSpec(s.value, s.label, STATE_TYPES[s]) for s in State)
OPEN = frozenset({State.ISSUED, State.OVERDUE})

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        Action("done", "完成", OPEN, frozenset({State.DONE}), P.DUTY_DO, hint="按要求填写完成情况或上传现场照片"),
        Action("confirm", "确认", frozenset({State.DONE}), frozenset({State.CONFIRMED}), P.DUTY_ISSUE,
               refusal="只有待确认的任务可以确认。"),
        Action("return", "退回", frozenset({State.DONE}), frozenset({State.ISSUED, State.OVERDUE}), P.DUTY_ISSUE,
               hint="佐证不合格，退回重做（已过期限的退回为逾期）", refusal="只有待确认的任务可以退回。"),
        Action("overdue", "标记逾期", frozenset({State.ISSUED}), frozenset({State.OVERDUE}), "",
               hint="超过完成期限，系统标记"),
        Action("withdraw", "撤回", OPEN, frozenset({State.WITHDRAWN}), P.DUTY_ISSUE, hint="下发单位撤回整份清单"),
    )
}
