from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest

from gridgov.cases.intake import case_report
from gridgov.cases.models import Case
from gridgov.cases.transitions import case_act
from tests.builtins import ensure_builtins
from tests.world import T0, World

_keys = itertools.count(1)


@dataclass
class Kit:
    """Drives cases through the real services, as the personas of the named world."""

    world: World
    now: dt.datetime = T0
    clock: list[dt.datetime] = field(default_factory=list)

    def tick(self, minutes: int = 10) -> dt.datetime:
        self.now = self.now + dt.timedelta(minutes=minutes)
        return self.now

    def report(self, *, actor: Any = None, category: str = "sanitation", **kw: Any) -> Case:
        w = self.world
        data: dict[str, Any] = {
            "title": "村口垃圾堆放", "description": "村口路边有大量生活垃圾，无人清运。",
            "category_code": category, "channel": "field", "unit_id": w.grid_a1.pk,
        }
        data.update(kw)
        return case_report(actor=actor if actor is not None else w.wang_fang, now=self.tick(), **data).case

    def act(self, case: Case, action: str, actor: Any, **params: Any) -> Case:
        return case_act(actor=actor, now=self.tick(), case_id=case.pk, action=action, **params)

    def to_state(self, state: str, **report_kw: Any) -> Case:
        w = self.world
        c = self.report(**report_kw)
        if state == "reported":
            return c
        if state == "rejected":
            return self.act(c, "reject", w.zhao_lei, reason="不属于网格事项")
        if state == "merged":
            other = self.report(title="同一处垃圾")
            return self.act(c, "merge", w.zhao_lei, target_case_id=other.pk)
        c = self.act(c, "accept", w.zhao_lei)
        if state == "handling":
            return c
        if state == "cancelled":
            return self.act(c, "cancel", w.zhang_wei, reason="重复登记")
        # Up the actual hierarchy to the township office, which dispatches to its police station.
        c = self.act(c, "escalate", w.zhao_lei)
        c = self.act(c, "escalate", w.li_qiang)
        c = self.act(c, "dispatch", w.zhang_wei, department_id=w.department.pk)
        if state == "dispatched":
            return c
        if state == "returned":
            return self.act(c, "return", w.liu_yang, reason_code="overlap", note="应由环卫站处理")
        c = self.act(c, "acknowledge", w.liu_yang)
        if state == "acknowledged":
            return c
        c = self.act(c, "feedback", w.liu_yang, result="已清运完毕")
        if state == "feedback":
            return c
        c = self.act(c, "review", w.zhang_wei)
        if state == "resolved":
            return c
        c = self.act(c, "confirm", w.zhang_wei, rating=5)
        assert state == "closed", state
        return c


@pytest.fixture
def categories(db: None) -> None:
    # Transactional tests flush the data migrations' rows; put them back (one loader for all catalogues).
    ensure_builtins()


@pytest.fixture
def kit(world: World, categories: None) -> Kit:
    return Kit(world=world)
