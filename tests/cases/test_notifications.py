"""Who is told what: new assignment, urge, returned, reopened go to whoever must act next."""

from __future__ import annotations

import pytest

from gridgov.cases.transitions import case_act
from gridgov.notify.models import Outbox

pytestmark = pytest.mark.django_db


def last_inbox(topic: str) -> list[int]:
    row = Outbox.objects.filter(kind="inbox", topic=topic).order_by("-id").first()
    assert row is not None, topic
    return row.payload["user_ids"]


def test_assignment_urge_return_and_reopen_reach_the_right_people(kit):
    w = kit.world
    c = kit.to_state("dispatched")
    assert last_inbox("case.dispatch") == [w.liu_yang.pk]
    kit.act(c, "urge", w.zhang_wei)
    assert last_inbox("case.urge") == [w.liu_yang.pk]
    kit.act(c, "return", w.liu_yang, reason_code="overlap", note="应由住建所办理")
    assert last_inbox("case.return") == [w.zhang_wei.pk]
    kit.act(c, "adjudicate", w.zhang_wei, note="维持交办")
    kit.act(c, "acknowledge", w.liu_yang)
    kit.act(c, "feedback", w.liu_yang, result="已处理")
    assert last_inbox("case.feedback") == [w.zhang_wei.pk]
    kit.act(c, "review", w.zhang_wei)
    c.refresh_from_db()
    # The reporter is not satisfied (with their tracking code): back to the township office, which is told.
    case_act(actor=None, now=kit.tick(), case_id=c.pk, action="reopen", reporter_token=c.tracking_token,
             reason="问题没有解决")
    assert last_inbox("case.reopen") == [w.zhang_wei.pk]
    c.refresh_from_db()
    assert c.status == "handling" and c.holder_unit == w.township


def test_escalation_tells_the_next_level(kit):
    w = kit.world
    c = kit.to_state("handling")
    kit.act(c, "escalate", w.zhao_lei)
    assert w.li_qiang.pk in last_inbox("case.escalate")
