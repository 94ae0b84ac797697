"""Random action sequences by random personas (and the system, and the reporter's tracking code)
must keep the invariants: exactly one current holder, one history row per transition, deadlines
that move only when a stage starts or an extension is approved, closed cases with feedback."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.states import ACTIONS, STATUSES, Who
from gridgov.cases.transitions import case_act
from gridgov.core.errors import DomainError

pytestmark = pytest.mark.django_db

PERSONAS = ["wang_fang", "zhao_lei", "li_qiang", "zhang_wei", "chen_jing", "liu_yang", "sun_li", "system",
            "reporter"]


PROGRESS = sorted(set(ACTIONS) - {"reject", "merge", "cancel"})
RIGHT = {Who.HOLDER: "chen_jing", Who.OWNER: "chen_jing", Who.DEPARTMENT: "liu_yang", Who.REPORTER: "reporter"}


def good_params(action: str, machine: CaseMachine) -> dict[str, Any]:
    w = machine.kit.world
    return {
        "reject": {"reason": "不予受理"},
        "merge": {"target_case_id": machine.other.pk},
        "self_handle": {"result": "已处理"},
        "dispatch": {"department_id": w.department.pk},
        "redispatch": {"department_id": w.department.pk},
        "return": {"reason_code": "unclear_ownership", "note": "权属不清"},
        "adjudicate": {"note": "维持交办"},
        "request_extension": {"days": 2, "reason": "等待材料"},
        "deny_extension": {"reason": "时限足够"},
        "feedback": {"result": "已办结"},
        "redo": {"reason": "不合格"},
        "confirm": {"rating": 3},
        "reopen": {"reason": "不满意"},
        "cancel": {"reason": "撤回"},
    }.get(action, {})


class CaseMachine(RuleBasedStateMachine):
    kit: ClassVar[Any]

    def __init__(self) -> None:
        super().__init__()
        self.case = self.kit.report()
        self.other = self.kit.report(title="另一件")
        self.transitions = 1

    def _fresh(self) -> Case:
        return Case.dangerously_unscoped.get(pk=self.case.pk)

    @rule(action=st.sampled_from(sorted(ACTIONS)), who=st.sampled_from(PERSONAS), valid=st.booleans())
    def act(self, action: str, who: str, valid: bool) -> None:
        self._act(action, who, valid)

    @rule(action=st.sampled_from(PROGRESS))
    def act_as_the_right_person(self, action: str) -> None:
        # Reaches the deep states (acknowledged, feedback, closed) that random personas rarely do.
        self._act(action, RIGHT[ACTIONS[action].who], True)

    def _act(self, action: str, who: str, valid: bool) -> None:
        before = self._fresh()
        params = good_params(action, self) if valid else {}
        actor = None if who in ("system", "reporter") else getattr(self.kit.world, who)
        token = before.tracking_token if who == "reporter" else ""
        ok = True
        try:
            with transaction.atomic():
                case_act(actor=actor, now=self.kit.tick(), case_id=self.case.pk, action=action,
                         reporter_token=token, **params)
        except DomainError:
            ok = False
        after = self._fresh()
        spec = ACTIONS[action]
        if ok:
            self.transitions += 1
            assert after.version == before.version + 1
            if after.resolve_due != before.resolve_due:
                assert spec.sets_deadline or action == "approve_extension", action
            if action == "approve_extension":
                assert after.resolve_due is not None and before.resolve_due is not None
                assert after.resolve_due > before.resolve_due
        else:
            assert (after.version, after.status, after.resolve_due) == (
                before.version, before.status, before.resolve_due)

    @invariant()
    def exactly_one_holder(self) -> None:
        c = self._fresh()
        assert (c.holder_unit_id is None) != (c.holder_department_id is None)
        assert STATUSES[c.status].held_by_department == (c.holder_department_id is not None)

    @invariant()
    def one_history_row_per_transition(self) -> None:
        rows = CaseEvent.dangerously_unscoped.filter(case=self.case).exclude(action="merged_in")
        assert rows.count() == self.transitions
        seqs = list(CaseEvent.dangerously_unscoped.filter(case=self.case).values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))

    @invariant()
    def closed_cases_have_feedback(self) -> None:
        c = self._fresh()
        if c.status == "closed":
            assert c.result.strip()
            assert c.closed_at is not None


def test_random_action_sequences_keep_the_invariants(kit):
    CaseMachine.kit = kit
    run_state_machine_as_test(
        CaseMachine,
        settings=settings(max_examples=60, stateful_step_count=30, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )
