"""Script injection in every text field a resident (or staff, for the result shown publicly) can fill:
kept as text, never executed, escaped wherever it is shown again."""

from __future__ import annotations

import pytest

from gridgov.cases.models import Case, CaseEvent
from gridgov.interfaces.public.links import grid_token

from .test_report import report
from .test_track import Desk, page

pytestmark = pytest.mark.django_db
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def escaped(html: str) -> bool:
    return "<script>alert" not in html and "onerror=alert(1)>" not in html.replace("onerror=alert(1)&gt;", "")


def test_the_address_on_the_general_page(pworld, client):
    again = report(client, "/p/r/", address=EVIL, phone="abc")  # refused for the phone, the address echoed
    assert again.status_code == 400 and escaped(again.content.decode()) and "&lt;script&gt;" in again.content.decode()
    accepted = report(client, "/p/r/", address=EVIL)
    assert accepted.status_code == 303 and Case.dangerously_unscoped.get().address == EVIL


def test_the_rating_comment_and_the_reopen_reason(pworld, client, monkeypatch):
    desk = Desk(pworld)
    monkeypatch.setattr("gridgov.interfaces.public.views.now", lambda: desk.tick())
    early = client.post(f"/p/t/{desk.code}/rate/", {"rating": "satisfied", "comment": EVIL})
    assert early.status_code == 409 and escaped(early.content.decode())
    early = client.post(f"/p/t/{desk.code}/reopen/", {"reason": EVIL})
    assert early.status_code == 409 and escaped(early.content.decode())
    desk.resolve()
    assert client.post(f"/p/t/{desk.code}/reopen/", {"reason": EVIL}).status_code == 303
    assert CaseEvent.dangerously_unscoped.filter(case=desk.case, action="reopen").get().note == EVIL
    assert escaped(page(client, desk.code)[1])


def test_a_result_written_by_staff_is_escaped_on_the_public_pages(pworld, client):
    desk = Desk(pworld)
    desk.act("accept", pworld.zhao_lei)
    desk.act("self_handle", pworld.zhao_lei, result=EVIL)
    desk.act("confirm", pworld.zhang_wei, rating=5)
    from gridgov.cases.public.services import case_disclose

    case_disclose(actor=pworld.zhang_wei, now=desk.tick(), case_id=desk.case.pk, public=True)
    html = client.get(f"/p/d/{grid_token(pworld.grid_a1.pk)}/").content.decode()
    assert "&lt;script&gt;" in html and escaped(html)
    assert escaped(page(client, desk.code)[1])
