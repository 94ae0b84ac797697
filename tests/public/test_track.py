"""Tracking, rating, reopening, and staff follow-up visits, with the case handled by staff through the
case loop's services."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.public.models import FollowUp
from gridgov.cases.public.services import public_report, result_photo_add
from gridgov.cases.transitions import case_act
from gridgov.core.errors import NotFound, PermissionDenied, ValidationFailed
from gridgov.interfaces.public import throttle
from tests.world import T0

from .conftest import jpeg_with_gps

pytestmark = pytest.mark.django_db


class Desk:
    """A resident's report handled by the named world's staff; the clock is an input."""

    def __init__(self, world, *, phone: str = "") -> None:  # type: ignore[no-untyped-def]
        self.w = world
        self.now = T0
        self.case = public_report(now=self.tick(), category_code="sanitation", description="村口垃圾没人清运",
                                  idempotency_key=secrets.token_urlsafe(16), unit_id=world.grid_a1.pk, phone=phone,
                                  photos=[jpeg_with_gps()]).case
        self.code = self.case.tracking_token

    def tick(self, minutes: int = 30) -> dt.datetime:
        self.now += dt.timedelta(minutes=minutes)
        return self.now

    def act(self, action: str, actor, **kw):  # type: ignore[no-untyped-def]
        self.case = case_act(actor=actor, now=self.tick(), case_id=self.case.pk, action=action, **kw)
        return self.case

    def resolve(self) -> Case:
        w = self.w
        self.act("accept", w.zhao_lei, note="网格长内部备注：先联系环卫")
        self.act("escalate", w.zhao_lei)
        self.act("escalate", w.li_qiang)
        self.act("dispatch", w.zhang_wei, department_id=w.department.pk, note="请派出所协调，内部意见")
        self.act("acknowledge", w.liu_yang)
        self.act("feedback", w.liu_yang, result="已联系环卫站清运完毕，并设置了垃圾桶。")
        result_photo_add(actor=w.liu_yang, now=self.tick(), case_id=self.case.pk, photo=jpeg_with_gps(color="green"))
        return self.act("review", w.zhang_wei, note="审核通过")


def page(client, code: str):  # type: ignore[no-untyped-def]
    response = client.get(f"/p/t/{code}/")
    return response, response.content.decode()


def test_tracking_shows_public_status_unit_steps_and_countdown(pworld, client, monkeypatch):
    desk = Desk(pworld, phone="13912345678")
    monkeypatch.setattr("gridgov.interfaces.public.views.now", lambda: desk.now + dt.timedelta(hours=1))
    response, html = page(client, desk.code)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and "noindex" in response["X-Robots-Tag"]
    for expected in ("已提交", "吴城村第一网格", "问题已提交", "办理期限", "剩 ", desk.case.number, "1 张"):
        assert expected in html, expected
    desk.act("accept", pworld.zhao_lei, note="网格长内部备注")
    desk.act("escalate", pworld.zhao_lei)
    desk.act("escalate", pworld.li_qiang)
    desk.act("dispatch", pworld.zhang_wei, department_id=pworld.department.pk, note="交办内部意见")
    _, html = page(client, desk.code)
    assert "正在办理" in html and "吴城乡派出所" in html and "已交有关部门办理" in html and "已报上级处理" in html
    assert "内部" not in html and "张伟" not in html


def test_the_deadline_shows_overdue_when_passed(pworld, client, monkeypatch):
    desk = Desk(pworld)
    monkeypatch.setattr("gridgov.interfaces.public.views.now", lambda: desk.case.resolve_due + dt.timedelta(hours=5))
    _, html = page(client, desk.code)
    assert "已超期" in html


def test_the_reporter_sees_the_result_with_photos_and_rates_it_once(pworld, client, monkeypatch):
    desk = Desk(pworld)
    desk.resolve()
    monkeypatch.setattr("gridgov.interfaces.public.views.now", lambda: desk.tick())
    _, html = page(client, desk.code)
    assert "已办结，请评价" in html and "已联系环卫站清运完毕" in html and "满意" in html and "基本满意" in html
    photo_urls = re.findall(r'src="(/p/t/[^"]+/photo/\d+/)"', html)
    assert len(photo_urls) == 1
    served = client.get(photo_urls[0])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(served.content)).getexif()
    assert client.get(photo_urls[0].replace("/1/", "/2/")).status_code == 404

    rated = client.post(f"/p/t/{desk.code}/rate/", {"rating": "basically", "comment": "清运及时"})
    assert rated.status_code == 303 and rated["Location"].endswith("?done=rated")
    case = Case.dangerously_unscoped.get(pk=desk.case.pk)
    assert case.status == "closed" and case.rating == 3 and case.rating_note == "清运及时"
    _, html = page(client, desk.code)
    assert "评价已收到" not in html and "已办结" in html and "基本满意" in html and "您已评价" in html
    events = CaseEvent.dangerously_unscoped.filter(case=case).count()
    twice = client.post(f"/p/t/{desk.code}/rate/", {"rating": "satisfied"})
    assert twice.status_code == 409 and "不能重复评价" in twice.content.decode()
    case.refresh_from_db()
    assert case.rating == 3 and CaseEvent.dangerously_unscoped.filter(case=case).count() == events


def test_rating_needs_a_level_and_a_finished_case(pworld, client):
    desk = Desk(pworld)
    early = client.post(f"/p/t/{desk.code}/rate/", {"rating": "satisfied"})
    assert early.status_code == 409 and "办结后才能评价" in early.content.decode()
    desk.resolve()
    bad = client.post(f"/p/t/{desk.code}/rate/", {"rating": "5"})
    assert bad.status_code == 400 and "满意、基本满意或不满意" in bad.content.decode()
    assert Case.dangerously_unscoped.get(pk=desk.case.pk).status == "resolved"


def test_not_solved_reopens_the_case_to_its_handler_with_the_reason(pworld, client, monkeypatch):
    desk = Desk(pworld)
    desk.resolve()
    monkeypatch.setattr("gridgov.interfaces.public.views.now", lambda: desk.tick())
    response = client.post(f"/p/t/{desk.code}/reopen/", {"reason": "垃圾桶又满了，没人来收"})
    assert response.status_code == 303
    case = Case.dangerously_unscoped.get(pk=desk.case.pk)
    assert case.status == "handling" and case.holder_unit_id == pworld.township.pk
    last = CaseEvent.dangerously_unscoped.filter(case=case).order_by("-seq").first()
    assert last.action == "reopen" and last.note == "垃圾桶又满了，没人来收" and last.actor_role == "reporter"
    _, html = page(client, desk.code)
    assert "正在办理" in html and "您说问题没解决，重新办理" in html
    assert re.search(r"办理单位</dt><dd>吴城乡</dd>", html)  # back with the township office, not the station


def test_reopening_needs_a_reason_and_is_refused_past_the_window(pworld, client, monkeypatch):
    desk = Desk(pworld)
    desk.resolve()
    empty = client.post(f"/p/t/{desk.code}/reopen/", {"reason": " "})
    assert empty.status_code == 400 and "哪里还没有解决" in empty.content.decode()
    events = CaseEvent.dangerously_unscoped.filter(case=desk.case).count()
    monkeypatch.setattr("gridgov.interfaces.public.views.now", lambda: desk.now + dt.timedelta(days=16))
    late = client.post(f"/p/t/{desk.code}/reopen/", {"reason": "还是没解决"})
    assert late.status_code == 400 and "超过 15 天" in late.content.decode()
    assert Case.dangerously_unscoped.get(pk=desk.case.pk).status == "resolved"
    assert CaseEvent.dangerously_unscoped.filter(case=desk.case).count() == events  # nothing written


def test_a_closed_case_cannot_be_reopened(pworld, client):
    desk = Desk(pworld)
    desk.resolve()
    desk.act("close", pworld.zhang_wei)
    response = client.post(f"/p/t/{desk.code}/reopen/", {"reason": "还是没解决"})
    assert response.status_code == 409 and "办结归档" in response.content.decode()
    assert Case.dangerously_unscoped.get(pk=desk.case.pk).status == "closed"


def test_random_codes_find_nothing_and_repeated_misses_are_refused(pworld, client):
    desk = Desk(pworld)
    for code in ("abc", "A" * 22, desk.code[:-1] + ("x" if desk.code[-1] != "x" else "y")):
        response = client.get(f"/p/t/{code}/")
        assert response.status_code == 404 and "查询码不正确" in response.content.decode()
    for i in range(throttle.TRACK_MISS_PER_IP.limit):
        client.get(f"/p/t/{'Z' * 21}{i % 10}/")
    blocked = client.get(f"/p/t/{desk.code}/")
    assert blocked.status_code == 429 and "次数太多" in blocked.content.decode()


def test_the_lookup_form_opens_the_tracking_page(pworld, client):
    desk = Desk(pworld)
    assert client.get("/p/t/").status_code == 200
    response = client.post("/p/t/", {"code": f" {desk.code[:10]} {desk.code[10:]} "})
    assert response.status_code == 303 and response["Location"] == f"/p/t/{desk.code}/"
    assert client.post("/p/t/", {"code": "<script>"}).status_code == 400


def test_a_merged_case_shows_the_progress_of_the_original(pworld, client):
    desk = Desk(pworld)
    other = public_report(now=desk.tick(), category_code="sanitation", description="同一处垃圾",
                          idempotency_key="m" * 20, unit_id=pworld.grid_a1.pk).case
    desk.act("merge", pworld.zhao_lei, target_case_id=other.pk)
    _, html = page(client, desk.code)
    assert "合并办理" in html and other.number in html
    assert client.post(f"/p/t/{desk.code}/rate/", {"rating": "satisfied"}).status_code == 409


def test_staff_follow_up_rates_for_a_resident_without_a_phone(pworld, login):
    desk = Desk(pworld)
    desk.resolve()
    staff = login(pworld.zhang_wei)
    form = staff.get(f"/cases/{desk.case.pk}/follow-up/")
    assert form.status_code == 200 and "记录回访" in form.content.decode()
    done = staff.post(f"/cases/{desk.case.pk}/follow-up/", {"method": "visit", "outcome": "satisfied",
                                                             "comment": "老人说很满意"})
    assert done.status_code == 302
    case = Case.dangerously_unscoped.get(pk=desk.case.pk)
    assert case.status == "closed" and case.rating == 5
    follow = FollowUp.dangerously_unscoped.get()
    assert follow.event.action == "confirm" and follow.by == pworld.zhang_wei and follow.method == "visit"
    again = staff.post(f"/cases/{desk.case.pk}/follow-up/", {"method": "visit", "outcome": "satisfied"})
    assert again.status_code == 400 and "不能重复评价" in again.content.decode()
    assert FollowUp.dangerously_unscoped.count() == 1


def test_staff_follow_up_not_solved_reopens(pworld, login, monkeypatch):
    desk = Desk(pworld)
    desk.resolve()
    monkeypatch.setattr("gridgov.interfaces.staff.public_side.now", lambda: desk.tick())
    staff = login(pworld.zhang_wei)
    no_reason = staff.post(f"/cases/{desk.case.pk}/follow-up/", {"method": "phone", "outcome": "not_solved"})
    assert no_reason.status_code == 400 and Case.dangerously_unscoped.get(pk=desk.case.pk).status == "resolved"
    staff.post(f"/cases/{desk.case.pk}/follow-up/", {"method": "phone", "outcome": "not_solved",
                                                      "comment": "桶还是满的"})
    case = Case.dangerously_unscoped.get(pk=desk.case.pk)
    assert case.status == "handling"
    assert CaseEvent.dangerously_unscoped.filter(case=case, action="reopen", note="回访：桶还是满的").exists()


def test_follow_up_is_scoped(pworld, login):
    desk = Desk(pworld)
    desk.resolve()
    assert login(pworld.sun_li).get(f"/cases/{desk.case.pk}/follow-up/").status_code == 404
    outsider = login(pworld.sun_li).post(f"/cases/{desk.case.pk}/follow-up/",
                                         {"method": "visit", "outcome": "satisfied"})
    assert outsider.status_code == 404
    # A grid worker sees the case (it is in A1) but the case is owned by the township now.
    worker = login(pworld.wang_fang).post(f"/cases/{desk.case.pk}/follow-up/",
                                          {"method": "visit", "outcome": "satisfied"})
    assert worker.status_code in (400, 403)
    assert Case.dangerously_unscoped.get(pk=desk.case.pk).status == "resolved"


def test_result_photos_need_a_result_and_a_handler(pworld, login):
    desk = Desk(pworld)
    with pytest.raises(ValidationFailed):
        result_photo_add(actor=pworld.zhang_wei, now=desk.tick(), case_id=desk.case.pk, photo=jpeg_with_gps())
    desk.resolve()
    upload = SimpleUploadedFile("r.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = login(pworld.zhang_wei).post(f"/cases/{desk.case.pk}/result-photo/", {"photo": upload})
    assert response.status_code == 302
    with pytest.raises(PermissionDenied):  # sees the case (it is in A1) but does not handle it
        result_photo_add(actor=pworld.wang_fang, now=desk.tick(), case_id=desk.case.pk, photo=jpeg_with_gps())
    with pytest.raises(NotFound):
        result_photo_add(actor=pworld.sun_li, now=desk.tick(), case_id=desk.case.pk, photo=jpeg_with_gps())


def test_a_forged_address_per_request_does_not_escape_the_tracking_code_throttle(pworld, client):
    """X-Real-IP from a peer that is not a configured proxy is ignored (docs/security.md: proxies
    trusted by configuration); the misses count against the peer itself."""
    from django.test import override_settings

    desk = Desk(pworld)
    with override_settings(GRIDGOV_TRUSTED_PROXIES=["127.0.0.1/32"]):
        for i in range(throttle.TRACK_MISS_PER_IP.limit):
            client.get(f"/p/t/{'Z' * 21}{i % 10}/", REMOTE_ADDR="198.51.100.20", HTTP_X_REAL_IP=f"10.5.0.{i + 1}",
                       HTTP_X_FORWARDED_FOR=f"10.6.0.{i + 1}")
        blocked = client.get(f"/p/t/{desk.code}/", REMOTE_ADDR="198.51.100.20", HTTP_X_REAL_IP="10.5.9.9")
        assert blocked.status_code == 429 and "次数太多" in blocked.content.decode()
        # Behind the trusted proxy, the header is the client: another resident is not blocked.
        fine = client.get(f"/p/t/{desk.code}/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.30")
        assert fine.status_code == 200
