from __future__ import annotations

import pytest

from gridgov.cases.models import CaseEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", ["reported", "handling", "dispatched", "acknowledged", "returned", "feedback",
                                   "resolved", "closed", "rejected", "merged", "cancelled"])
def test_every_state_is_reachable(kit, state):
    case = kit.to_state(state)
    assert case.status == state
    assert CaseEvent.dangerously_unscoped.filter(case=case).count() >= 1
