from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest

from gridgov.access.services import department_create, grant_create, user_create
from gridgov.cases.intake import case_report
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.transitions import case_act
from gridgov.cases.world import seed_world_step
from tests.world import T0

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(days=120)


def test_generated_history_is_realistic_and_keeps_the_invariants(kit):
    w = kit.world
    # A second department with a handler, so dispatches spread.
    dept = department_create(actor=None, now=T0, unit=w.township, name="吴城乡司法所", kind="judicial")
    u = user_create(actor=None, now=T0, username="sifa", full_name="司法所员", password=None, validate=False)
    grant_create(actor=None, now=T0, user=u, role_code="department_handler", unit=w.township, department=dept)
    out = io.StringIO()
    seed_world_step(seed=7, now=NOW, root=w.county, stdout=out)
    cases = list(Case.dangerously_unscoped.all())
    # Three grid workers (A1, A2 and the default for grids without one) over ~80 working days: ≈ 0.5/worker/day.
    assert 80 <= len(cases) <= 260, out.getvalue()
    states = Counter(c.status for c in cases)
    assert {"closed", "resolved", "handling", "dispatched", "acknowledged"} <= set(states), states
    assert any(c.overdue for c in cases)
    assert any(c.resolve_due and c.resolve_due < NOW and c.status in ("handling", "acknowledged", "dispatched")
               for c in cases)
    events = Counter(CaseEvent.dangerously_unscoped.values_list("case_id", flat=True))
    for c in cases:
        assert (c.holder_unit_id is None) != (c.holder_department_id is None), c.number
        assert events[c.pk] == c.version, c.number
        if c.status == "closed":
            assert c.result
        assert c.created_at < NOW
    # Running it again changes nothing.
    seed_world_step(seed=7, now=NOW, root=w.county, stdout=out)
    assert Case.dangerously_unscoped.count() == len(cases)
    # Generated cases work with the real services, and numbering continues after them.
    dispatched = next(c for c in cases if c.status == "dispatched" and c.holder_department_id == w.department.pk)
    acted = case_act(actor=w.liu_yang, now=NOW, case_id=dispatched.pk, action="acknowledge")
    assert acted.version == dispatched.version + 1
    new = case_report(actor=w.wang_fang, now=NOW, title="新", description="新事件", category_code="other",
                      channel="field", unit_id=w.grid_a1.pk).case
    assert new.number not in {c.number for c in cases}
