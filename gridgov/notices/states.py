"""The notice workflow as data: draft → (pending approval when county-wide or 特急, configurable) → sent
→ closed. Every change goes through the workflow engine (core/workflow.py) with `services.NoticeFlow`;
docs/workflows/notice.md is generated from this module."""

from __future__ import annotations

from gridgov.access.roles import P
from gridgov.core.workflow import Action, StatusSpec, StatusType

from .models import Notice

Status = Notice.Status

STATUS_TYPES: dict[str, StatusType] = {
    Status.DRAFT: StatusType.OPEN, Status.PENDING: StatusType.OPEN, Status.SENT: StatusType.IN_PROGRESS,
    Status.CLOSED: StatusType.DONE, Status.WITHDRAWN: StatusType.REJECTED,
}
STATUS_SPECS = tuple(StatusSpec(s.value, s.label, STATUS_TYPES[s]) for s in Status)

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        Action("send", "发出", frozenset({Status.DRAFT}), frozenset({Status.SENT, Status.PENDING}), P.NOTICE_SEND,
               hint="需要审核的（全县范围或特急，可配置）先送审核，其余立即发到每一户",
               refusal="只有草稿可以发出。"),
        Action("approve", "审核通过并发出", frozenset({Status.PENDING}), frozenset({Status.SENT}), P.NOTICE_APPROVE,
               hint="由发出人以外的另一人审核", refusal="只有待审核的通知可以审核。"),
        Action("reject", "退回修改", frozenset({Status.PENDING}), frozenset({Status.DRAFT}), P.NOTICE_APPROVE,
               refusal="只有待审核的通知可以退回。"),
        Action("close", "结束传达", frozenset({Status.SENT}), frozenset({Status.CLOSED}), P.NOTICE_SEND,
               refusal="只有传达中的通知可以结束。"),
        Action("withdraw", "撤回", frozenset({Status.DRAFT, Status.PENDING}), frozenset({Status.WITHDRAWN}),
               P.NOTICE_SEND, refusal="已发出的通知不能撤回，请结束传达。"),
    )
}
