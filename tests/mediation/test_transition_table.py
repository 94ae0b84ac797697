"""Every (state, action) pair of the mediation table, taken through the one transition service:
an allowed pair moves to its target and writes exactly one history row and one audit row
`mediation.<action>`; a pair the table does not allow is refused (Conflict, in Chinese) and writes
nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.audit.models import AuditEvent
from gridgov.core.errors import Conflict
from gridgov.mediation.models import MediationEvent, MediationSession
from gridgov.mediation.states import ACTIONS, Status, target_of
from tests.mediation.conftest import act, in_state
from tests.world import T0

pytestmark = pytest.mark.django_db

PAIRS = [(s.value, a) for s in Status for a in ACTIONS]


def test_the_table_covers_every_state_and_action():
    assert len(PAIRS) == len(Status) * len(ACTIONS) == 63
    reachable = {s.value for a in ACTIONS.values() for s in a.sources} | {
        a.target.value for a in ACTIONS.values() if a.target}
    assert reachable | {"accepted"} == {s.value for s in Status}
    assert not [a for a in ACTIONS.values() if Status.CLOSED in a.sources], "closed is final"


@pytest.mark.parametrize(("state", "action"), PAIRS)
def test_every_state_action_pair(mworld, state, action):
    m = in_state(mworld, state)
    spec = ACTIONS[action]
    events, audits = MediationEvent.dangerously_unscoped.count(), AuditEvent.objects.count()
    sessions = MediationSession.dangerously_unscoped.count()
    before = (m.status, m.version, m.due_at)
    if spec.allowed_from(state):
        done = act(mworld, m, action, actor=mworld.xu, now=T0 + dt.timedelta(days=3))
        assert done.status == target_of(spec, state)
        assert MediationEvent.dangerously_unscoped.count() == events + 1
        ev = MediationEvent.dangerously_unscoped.filter(mediation=m).order_by("-seq").first()
        assert (ev.action, ev.from_status, ev.to_status, ev.actor) == (action, state, done.status, mworld.xu)
        audit = AuditEvent.objects.order_by("-id").first()
        assert AuditEvent.objects.count() == audits + 1
        assert audit.action == f"mediation.{action}"
        assert audit.object_id == str(m.pk)
        assert audit.detail["from"] == state and audit.detail["to"] == done.status
        assert audit.actor_id == mworld.xu.pk
    else:
        with pytest.raises(Conflict) as exc:
            act(mworld, m, action, actor=mworld.xu, now=T0 + dt.timedelta(days=3))
        assert "不能" in exc.value.message
        m.refresh_from_db()
        assert (m.status, m.version, m.due_at) == before
        assert MediationEvent.dangerously_unscoped.count() == events
        assert AuditEvent.objects.count() == audits
        assert MediationSession.dangerously_unscoped.count() == sessions
