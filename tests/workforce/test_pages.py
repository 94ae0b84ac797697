"""The workforce pages with the named personas: every list, detail and download is scoped; out of
scope is 404 like missing; a grid worker sees only their own points."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pypdfium2 as pdfium
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from gridgov.audit.models import AuditEvent
from gridgov.workforce import services
from gridgov.workforce.models import DutyItem, PointEntry
from tests.workforce.conftest import DAY, issue, jpeg
from tests.world import T0

pytestmark = pytest.mark.django_db
APRIL = dt.datetime(2026, 4, 3, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def month(world, rules):  # type: ignore[no-untyped-def]
    """March 2026: a list to 王芳 (done with a photo, confirmed), a visit point, a manual deduction for 钱多."""
    duty = issue(world, to_workers=[world.wang_fang], evidence="photo")
    item = duty.items.get()
    services.duty_item_done(actor=world.wang_fang, now=T0 + DAY, item_id=item.pk, photo=jpeg())
    services.duty_item_confirm(actor=world.zhang_wei, now=T0 + DAY, item_id=item.pk)
    services.points_award_event(worker_id=world.wang_fang.pk, kind="visit", source_type="visit", source_id="1",
                                at=T0, now=T0)
    services.points_adjust(actor=world.zhang_wei, now=T0, worker_id=world.qian_duo.pk, points=-3,
                           reason="台账更新不及时")
    return duty


def status(client, url):  # type: ignore[no-untyped-def]
    return client.get(url).status_code


def test_personas_on_every_workforce_page(world, month, login):
    item = month.items.get()
    urls = {
        "item": reverse("staff:duty_item", args=[item.pk]),
        "photo": reverse("staff:duty_item_photo", args=[item.pk]),
        "list": reverse("staff:duty_list", args=[month.pk]),
        "points": reverse("staff:worker_points", args=[world.wang_fang.pk]) + "?month=2026-03",
        "xlsx": reverse("staff:assessment_xlsx", args=[world.township.pk]) + "?month=2026-03",
        "pdf": reverse("staff:assessment_pdf", args=[world.township.pk]) + "?month=2026-03",
    }
    expected = {
        # persona: (item, photo, list, 王芳's points, xlsx, pdf)
        "wang_fang": (200, 200, 404, 200, 404, 404),
        "qian_duo": (404, 404, 404, 404, 404, 404),   # grid worker of another grid
        "li_qiang": (200, 200, 404, 200, 404, 404),   # village secretary: his village, not the township's list
        "zhang_wei": (200, 200, 200, 200, 200, 200),  # township office
        "chen_jing": (200, 200, 200, 200, 200, 200),  # county office
        "liu_yang": (404, 404, 404, 404, 404, 404),   # department handler
        "sun_li": (404, 404, 404, 404, 404, 404),     # outsider
    }
    for persona, codes in expected.items():
        client = login(getattr(world, persona))
        got = tuple(status(client, u) for u in urls.values())
        assert got == codes, (persona, got)
    # Missing looks exactly like out of scope.
    outsider = login(world.sun_li)
    assert outsider.get(urls["item"]).content == outsider.get(reverse("staff:duty_item", args=[987654])).content


def test_worker_sees_only_own_points(world, month, login):
    wang = login(world.wang_fang)
    page = wang.get(reverse("staff:my_tasks") + "?month=2026-03")
    assert page.status_code == 200
    assert [e.worker_id for e in page.context["entries"]] == [world.wang_fang.pk] * 2
    assert page.context["total"] == 5 and "台账更新不及时" not in page.content.decode()
    assert wang.get(reverse("staff:worker_points", args=[world.qian_duo.pk])).status_code == 404
    for name in ("duty_lists", "points_rules", "assessment"):
        assert wang.get(reverse(f"staff:{name}")).status_code == 404, name


def test_office_pages_render_for_the_township(world, month, login):
    zhang = login(world.zhang_wei)
    for name in ("duty_lists", "points_rules"):
        assert zhang.get(reverse(f"staff:{name}")).status_code == 200
    page = zhang.get(reverse("staff:assessment") + "?month=2026-03")
    assert page.status_code == 200 and "王芳" in page.content.decode()
    assert login(world.li_qiang).get(reverse("staff:points_rules")).status_code == 404
    assert login(world.sun_li).get(reverse("staff:assessment") + f"?unit={world.township.pk}").status_code == 404


def test_worker_marks_done_through_the_page(world, rules, login):
    duty = issue(world, to_workers=[world.wang_fang])
    item = duty.items.get()
    wang = login(world.wang_fang)
    mine = wang.get(reverse("staff:my_tasks"))
    assert [i.pk for i in mine.context["open_items"]] == [item.pk]
    bad = wang.post(reverse("staff:duty_item", args=[item.pk]), {"action": "done", "text": "好"})
    assert bad.status_code == 400 and "至少 4 个字" in bad.content.decode()
    ok = wang.post(reverse("staff:duty_item", args=[item.pk]), {"action": "done", "text": "已逐户核查完毕。"})
    assert ok.status_code == 302 and DutyItem.dangerously_unscoped.get(pk=item.pk).state == "done"
    # A grid worker cannot confirm their own work.
    assert wang.post(reverse("staff:duty_item", args=[item.pk]), {"action": "confirm"}).status_code == 403


def test_office_issues_through_the_page(world, login):
    zhang = login(world.zhang_wei)
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    response = zhang.post(reverse("staff:duty_lists"), {
        "unit": world.township.pk, "title": "防汛隐患排查", "due": due, "evidence": "text_photo",
        "units": [world.grid_a1.pk, world.grid_b1.pk], "workers": [world.qian_duo.pk]})
    assert response.status_code == 302
    assert DutyItem.dangerously_unscoped.count() == 3
    refused = zhang.post(reverse("staff:duty_lists"), {"unit": world.township.pk, "title": "跨乡任务",
                                                       "due": due, "evidence": "text",
                                                       "units": [world.grid_c1.pk]})
    assert refused.status_code == 400 and "下级单位" in refused.content.decode()


def test_downloads_excel_and_pdf_published_and_audited(world, month, login, tmp_path):
    zhang = login(world.zhang_wei)
    with mock.patch("gridgov.interfaces.staff.workforce.now", return_value=APRIL), \
            mock.patch("gridgov.workforce.services.month_of", side_effect=lambda at: dt.date(2026, 4, 1)):
        published = zhang.post(reverse("staff:assessment"), {"unit": world.township.pk, "month": "2026-03"})
    assert published.status_code == 302
    xlsx = zhang.get(reverse("staff:assessment_xlsx", args=[world.township.pk]) + "?month=2026-03")
    assert xlsx.status_code == 200 and xlsx["Cache-Control"] == "no-store"
    ws = load_workbook(io.BytesIO(xlsx.content))["网格员排名"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0][0].startswith("导出人：张伟") and "（预览" not in rows[1][0]
    assert rows[4][:2] == [1, "王芳"] and rows[4][3] == 5 and rows[4][7] == 85.0
    pdf = zhang.get(reverse("staff:assessment_pdf", args=[world.township.pk]) + "?month=2026-03")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    doc = pdfium.PdfDocument(pdf.content)
    text = doc[0].get_textpage().get_text_range()
    assert "考核通报" in text and "王芳" in text and "钱多" in text and "导出人：张伟" in text
    doc.close()
    assert AuditEvent.objects.filter(action="assessment.download").count() == 2
    assert PointEntry.dangerously_unscoped.count() == 3


def test_personas_on_the_list_pages(world, month, login):
    """Pages without an object id: who gets them, and that nothing of 吴城乡 shows elsewhere."""
    pages = ["my_tasks", "duty_lists", "points_rules", "assessment"]
    expected = {
        "wang_fang": (200, 404, 404, 404),
        "qian_duo": (200, 404, 404, 404),
        "li_qiang": (200, 200, 404, 200),
        "zhang_wei": (200, 200, 200, 200),
        "chen_jing": (200, 200, 200, 200),
        "liu_yang": (200, 404, 404, 404),
        "sun_li": (200, 200, 200, 200),
    }
    for persona, codes in expected.items():
        client = login(getattr(world, persona))
        responses = [client.get(reverse(f"staff:{name}") + "?month=2026-03") for name in pages]
        assert tuple(r.status_code for r in responses) == codes, persona
        text = "".join(r.content.decode() for r in responses if r.status_code == 200)
        mine = persona in ("wang_fang", "zhang_wei", "chen_jing")  # the village secretary: not the township's list
        assert ("入户核查低保户" in text) == mine, persona
    qian = login(world.qian_duo).get(reverse("staff:my_tasks") + "?month=2026-03")
    assert qian.context["total"] == -3 and "台账更新不及时" in qian.content.decode()
