"""Reporting from the grid page (QR) and the general page, through the one intake service."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgov.audit.models import AuditEvent
from gridgov.cases.models import Case, CaseAttachment
from gridgov.cases.reporter import reveal_name, reveal_phone
from gridgov.interfaces.public.links import grid_token
from gridgov.notify.models import Outbox
from gridgov.notify.services import recipients

from .conftest import jpeg_with_gps

pytestmark = pytest.mark.django_db


def grid_path(world) -> str:
    return f"/p/g/{grid_token(world.grid_a1.pk)}/"


def form_key(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def photo(name: str = "p.jpg", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else jpeg_with_gps(), content_type="image/jpeg")


def report(client, path: str, **fields):  # type: ignore[no-untyped-def]
    page = client.get(path)
    data = {"key": form_key(page.content.decode()), "category": "sanitation",
            "description": "村口垃圾三天没人清运了", **fields}
    return client.post(path, data)


def test_the_grid_page_is_a_report_form_preset_to_the_grid(pworld, client):
    page = client.get(grid_path(pworld))
    html = page.content.decode()
    assert page.status_code == 200
    assert "吴城村第一网格" in html and "反映问题" in html
    for words in ("垃圾、污水、卫生", "停水、停电", "邻里矛盾纠纷", "其他问题"):
        assert words in html
    assert html.count("<svg") >= 9  # an icon per category, inline
    assert 'type="file"' in html and "multiple" in html and 'name="phone"' in html and 'name="anonymous"' in html
    assert "自动删除" in html and "只用来" in html  # the plain notice of the phone's use and deletion
    # No inline script anywhere (the CSP forbids it); one deferred script file.
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/gridgov/public.js" defer>']
    assert re.findall(r"<script[^>]*>(.*?)</script>", html, re.S) == [""]


def test_a_report_with_photos_makes_one_case_without_exif_and_an_sms_with_the_tracking_link(pworld, client):
    path = grid_path(pworld)
    raw = jpeg_with_gps()
    assert b"Exif" in raw
    response = report(client, path, phone="139 1234 5678", photos=[photo("a.jpg", raw), photo("b.jpg")])
    assert response.status_code == 303, response.content.decode()
    case = Case.dangerously_unscoped.get()
    assert response["Location"] == f"/p/t/{case.tracking_token}/?new=1"
    assert case.channel == "public" and case.unit_id == pworld.grid_a1.pk and case.category.code == "sanitation"
    assert reveal_phone(case) == "13912345678" and reveal_name(case) == "" and not case.anonymous
    atts = list(CaseAttachment.dangerously_unscoped.filter(case=case))
    assert len(atts) == 2 and all(a.event.action == "report" for a in atts)
    for a in atts:
        stored = Path(a.file.path).read_bytes()
        assert b"Exif" not in stored and not Image.open(io.BytesIO(stored)).getexif()
        assert b"TestCam" not in stored
    sms = Outbox.objects.get(topic="case.tracking")
    assert recipients(sms.payload) == ("13912345678",) and f"/p/t/{case.tracking_token}/" in sms.payload["text"]
    assert AuditEvent.objects.filter(action="case.report").count() == 1
    assert AuditEvent.objects.filter(action="case.photo_add").count() == 1
    page = client.get(response["Location"]).content.decode()
    grouped = " ".join(case.tracking_token[i:i + 4] for i in range(0, len(case.tracking_token), 4))
    assert "已收到" in page and grouped in page and "2 张" in page


def test_a_retry_with_the_same_key_never_makes_a_second_case(pworld, client):
    path = grid_path(pworld)
    key = form_key(client.get(path).content.decode())
    data = {"key": key, "category": "sanitation", "description": "路灯坏了"}
    first = client.post(path, {**data, "photos": [photo()]})
    second = client.post(path, {**data, "photos": [photo()]})
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Case.dangerously_unscoped.count() == 1 and CaseAttachment.dangerously_unscoped.count() == 1
    # The same key with different words: refused, nothing written.
    third = client.post(path, {**data, "description": "另一件事"})
    assert third.status_code == 409 and "不一样" in third.content.decode()
    assert Case.dangerously_unscoped.count() == 1


def test_each_render_has_its_own_key(pworld, client):
    path = grid_path(pworld)
    assert form_key(client.get(path).content.decode()) != form_key(client.get(path).content.decode())


@pytest.mark.parametrize("fields, status, message", [
    ({"description": "  "}, 400, "说一说"),
    ({"category": ""}, 400, "哪一类"),
    ({"category": "no_such"}, 400, "哪一类"),
    ({"phone": "12345"}, 400, "电话号码不正确"),
    ({"key": ""}, 400, "页面已过期"),
    ({"photos": [SimpleUploadedFile("x.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")]}, 400, "无法识别"),
    ({"photos": [SimpleUploadedFile("x.jpg", b"%PDF-1.4 fake", content_type="image/jpeg")]}, 400, "无法识别"),
    ({"photos": [photo(), photo(), photo(), photo()]}, 400, "最多上传 3 张"),
])
def test_bad_input_gets_a_clear_message_and_nothing_is_written(pworld, client, fields, status, message):
    response = report(client, grid_path(pworld), **fields)
    html = response.content.decode()
    assert response.status_code == status, html
    assert message in html
    assert Case.dangerously_unscoped.count() == 0 and CaseAttachment.dangerously_unscoped.count() == 0
    assert not Outbox.objects.filter(topic="case.tracking").exists()


def test_an_oversized_photo_is_refused(pworld, client, monkeypatch):
    from gridgov.interfaces.public import views

    monkeypatch.setattr(views, "MAX_PHOTO_BYTES", 1000)
    response = report(client, grid_path(pworld), photos=[photo()])
    assert response.status_code == 400 and "太大" in response.content.decode()
    assert Case.dangerously_unscoped.count() == 0


def test_a_photo_bomb_is_refused(pworld, client):
    big = io.BytesIO()
    Image.new("1", (9000, 9000)).save(big, "PNG")
    response = report(client, grid_path(pworld), photos=[SimpleUploadedFile("b.png", big.getvalue(), "image/png")])
    assert response.status_code == 400 and "尺寸过大" in response.content.decode()
    assert Case.dangerously_unscoped.count() == 0


def test_script_in_text_is_kept_as_text_and_never_executed(pworld, client):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = report(client, grid_path(pworld), description=evil)
    assert response.status_code == 303
    assert Case.dangerously_unscoped.get().description == evil
    # Echoed back on an error page: escaped.
    again = report(client, grid_path(pworld), description=evil, phone="abc")
    html = again.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "zz", lambda t: "x" + t, lambda t: "123"])
def test_a_forged_grid_link_cannot_report(pworld, client, mangle):
    token = mangle(grid_token(pworld.grid_a1.pk))
    response = client.post(f"/p/g/{token}/", {"key": "k" * 24, "category": "sanitation", "description": "x"})
    assert response.status_code == 404 and "二维码无法识别" in response.content.decode()
    assert client.get(f"/p/g/{token}/").content == response.content  # the same page for every wrong token
    assert Case.dangerously_unscoped.count() == 0


def test_the_general_page_finds_the_grid_by_point(pworld, client):
    response = report(client, "/p/r/", lat="39.05", lng="113.05")
    assert response.status_code == 303
    assert Case.dangerously_unscoped.get().unit_id == pworld.grid_a1.pk


def test_the_general_page_with_only_an_address_goes_to_the_county_office(pworld, client):
    response = report(client, "/p/r/", address="吴城村村委会东边路口")
    assert response.status_code == 303
    case = Case.dangerously_unscoped.get()
    assert case.unit_id == pworld.county.pk and case.address == "吴城村村委会东边路口"


@pytest.mark.parametrize("fields, message", [
    ({}, "在哪里"),
    ({"lat": "45.0", "lng": "120.0"}, "不在本县"),
    ({"lat": "abc", "lng": "113"}, "格式不正确"),
    ({"lat": "39.05"}, "同时提供"),
])
def test_the_general_page_needs_a_place(pworld, client, fields, message):
    response = report(client, "/p/r/", **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Case.dangerously_unscoped.count() == 0


def test_anonymous_reports_hide_the_phone_from_the_department(pworld, client):
    from gridgov.access.scope import scope_for
    from gridgov.cases.selectors import reporter_of

    report(client, grid_path(pworld), phone="13912345678", anonymous="1")
    case = Case.dangerously_unscoped.get()
    assert case.anonymous
    assert reporter_of(scope=scope_for(pworld.liu_yang), case=case)["phone"] == ""


def _static_bytes(name: str) -> int:
    found = finders.find(name)
    assert found, name
    return Path(found).stat().st_size


@pytest.mark.parametrize("path_of", [grid_path, lambda w: "/p/r/"])
def test_page_weight_before_photos_is_under_100_kb(pworld, client, path_of):
    html = client.get(path_of(pworld)).content
    assets = re.findall(r'(?:href|src)="/static/([^"]+)"', html.decode())
    assert "gridgov/public.css" in assets and "gridgov/public.js" in assets
    total = len(html) + sum(_static_bytes(a) for a in assets)
    assert total < 100 * 1024, total
    # Nothing else is fetched: no web fonts, no third-party hosts.
    assert "http://" not in html.decode().replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html.decode() and "@font-face" not in Path(finders.find("gridgov/public.css")).read_text()


def test_a_post_without_its_cookie_gets_a_plain_chinese_page(pworld):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(grid_path(pworld), {"key": "k" * 24, "category": "sanitation", "description": "路灯坏了"})
    assert response.status_code == 403 and "页面已过期" in response.content.decode()
    assert Case.dangerously_unscoped.count() == 0
