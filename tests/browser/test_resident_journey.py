"""A resident's journey in Debian's Chromium on a phone (360×740) over a slow network: scan the grid's
QR code → report with a photo → tracking page → staff handle the case through the services → the
resident sees the result and rates it; and the same with "not solved" reopening it.

Screenshots go to artifacts/public/ and were looked at. Every page is also run through the leak scanner.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from django.test import Client

from gridgov.cases.models import Case
from gridgov.cases.public.services import case_disclose, public_report, result_photo_add
from gridgov.cases.transitions import case_act
from gridgov.core.clock import now
from gridgov.interfaces.public.links import grid_token
from tests.public.conftest import jpeg_with_gps
from tests.public.leakscan import scan
from tests.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "public"
# The `browser` fixture (one Debian Chromium for the run) is the root conftest's.
# A weak rural signal: 400 ms round trip, about 400 kbit/s down and 200 kbit/s up.
SLOW = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 25 * 1024}


def phone(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW)
    page.set_default_timeout(60_000)
    return page


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    problems = scan(page.content(), path=page.url, board_page="/p/g/" in page.url)
    assert not problems, problems
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name}: scrolls sideways"


def scanned_link(world: Any) -> str:
    """What a resident's phone reads from the printed contact card."""
    staff = Client()
    staff.force_login(world.li_qiang)
    pdf = staff.get(f"/units/{world.grid_a1.pk}/cards.pdf?copies=1").content
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=3).to_pil()
    return str(zxingcpp.read_barcodes(image)[0].text)


def big_photo() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "camera.jpg"
    path.write_bytes(jpeg_with_gps(3000, 2000, "orange"))
    return path


def report(page: Any, link: str, description: str, name: str) -> str:
    page.goto(link)
    shot(page, f"{name}-1-grid-page")
    page.click("label.cat:has-text('垃圾、污水、卫生')")
    page.fill("#description", description)
    page.set_input_files("#photos", str(big_photo()))
    # The page's own script shrank the photo (the CSP forbids Playwright's eval-based waiting).
    page.wait_for_selector("#photo-status:has-text('已选')")
    status = page.text_content("#photo-status") or ""
    shrunk_kb = int(status.split("共 ")[1].split(" KB")[0])
    assert shrunk_kb * 1024 < big_photo().stat().st_size / 4, status  # shrunk on the phone before upload
    page.fill("#phone", "13912345678")
    shot(page, f"{name}-2-form-filled")
    page.click("button.submit")
    page.wait_for_url("**/p/t/**", timeout=120_000)
    assert "已收到" in page.content()
    shot(page, f"{name}-3-received")
    return str(page.url).split("/p/t/")[1].split("/")[0]


def staff_phone(browser: Any, live_url: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{live_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def staff_shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name}: scrolls sideways"


def handle_on_the_staff_pages(world: Any, case: Case) -> None:
    """The grid worker 王芳, on her phone: opens the case, handles it herself with a result, and adds a
    photo of the result (a camera photo with its GPS position, which must not reach the resident)."""
    page = staff_phone(world.browser, world.live_url, world.wang_fang.username)
    page.goto(f"{world.live_url}/cases/{case.pk}/")
    assert "村口垃圾" in page.content()
    staff_shot(page, "rate-staff-1-case")
    if not page.is_visible("form[data-action=self_handle] button.primary"):
        page.click("details.action:has(form[data-action=self_handle]) summary")
    page.fill("form[data-action=self_handle] textarea[name=result]", "环卫站已清运垃圾，并在村口新放了两个垃圾桶。")
    page.click("form[data-action=self_handle] button.primary")
    page.wait_for_load_state()
    assert "已自办自结" in page.content()
    page.click("text=回访、结果照片与办理公开")
    page.wait_for_load_state()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    result = ARTIFACTS / "result.jpg"
    result.write_bytes(jpeg_with_gps(1200, 800, "green"))
    page.set_input_files("input[name=photo]", str(result))
    page.click("form[action$='/result-photo/'] button[type=submit]")
    page.wait_for_load_state()
    assert "结果照片已上传" in page.content()
    staff_shot(page, "rate-staff-2-result-photo")
    page.context.close()


def handle(world: Any, case: Case) -> Case:
    w = world

    def act(action: str, actor: Any, **kw: Any) -> Case:
        return case_act(actor=actor, now=now(), case_id=case.pk, action=action, **kw)

    act("accept", w.zhao_lei)
    act("escalate", w.zhao_lei)
    act("escalate", w.li_qiang)
    act("dispatch", w.zhang_wei, department_id=w.department.pk)
    act("acknowledge", w.liu_yang)
    act("feedback", w.liu_yang, result="环卫站已清运垃圾，并在村口新放了两个垃圾桶。")
    result_photo_add(actor=w.liu_yang, now=now(), case_id=case.pk, photo=jpeg_with_gps(1200, 800, "green"))
    return act("review", w.zhang_wei)


@pytest.fixture
def resident_world(migration_rows: None, world: Any, live_server: Any, settings: Any, tmp_path: Any,
                   browser: Any) -> Any:
    from django.core.cache import cache

    cache.clear()  # rate-limit and challenge counts of earlier tests (every browser report comes from 127.0.0.1)
    settings.GRIDGOV_PUBLIC_BASE_URL = live_server.url
    settings.MEDIA_ROOT = str(tmp_path / "media")
    world.live_url = live_server.url
    world.browser = browser
    return world


def test_scan_report_track_and_rate(resident_world, browser):
    w = resident_world
    link = scanned_link(w)
    assert "/p/g/" in link
    page = phone(browser)
    code = report(page, link, "村口垃圾三天没人清运了，味道很大。", "rate")
    case = Case.dangerously_unscoped.get(tracking_token=code)
    assert case.channel == "public" and case.unit_id == w.grid_a1.pk
    stored = case.attachments.get()
    assert stored.size < 400_000 and b"Exif" not in stored.file.open("rb").read()
    page.goto(str(page.url).split("?")[0])  # the tracking link itself, as opened later from the SMS
    assert "已提交" in page.content() and "剩" in page.content() and "已收到，谢谢您" not in page.content()
    shot(page, "rate-4-tracking")
    handle_on_the_staff_pages(w, case)
    page.reload()
    html = page.content()
    assert "已办结，请评价" in html and "新放了两个垃圾桶" in html
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "rate-5-result")
    page.click("label.rate:has-text('基本满意')")
    page.fill("#comment", "清得很干净，谢谢。")
    page.click("form[action$='/rate/'] button.submit")
    page.wait_for_url("**done=rated")
    assert "评价已收到" in page.content() and "基本满意" in page.content()
    shot(page, "rate-6-rated")
    case.refresh_from_db()
    assert case.status == "closed" and case.rating == 3
    assert b"Exif" not in case.attachments.filter(event__action="self_handle").get().file.open("rb").read()
    # The township office publishes it; the village's disclosure page shows it, de-identified.
    case_disclose(actor=w.zhang_wei, now=now(), case_id=case.pk, public=True)
    page.goto(str(page.url).split("/p/")[0] + f"/p/d/{grid_token(w.village.pk)}/")
    html = page.content()
    assert "吴城村　办理公开" in html and "新放了两个垃圾桶" in html and "100%" in html
    page.wait_for_load_state("networkidle")
    shot(page, "rate-7-disclosure")


def test_scan_report_and_say_not_solved(resident_world, browser):
    w = resident_world
    page = phone(browser)
    code = report(page, scanned_link(w), "路边的垃圾堆又满了。", "reopen")
    case = Case.dangerously_unscoped.get(tracking_token=code)
    handle(w, case)
    page.reload()
    assert "已办结，请评价" in page.content() and "新放了两个垃圾桶" in page.content()
    shot(page, "reopen-5-result")
    page.fill("#reason", "垃圾桶第二天又满了，没有人来收。")
    page.click("form[action$='/reopen/'] button.submit")
    page.wait_for_url("**done=reopened")
    html = page.content()
    assert "重新办理" in html and "正在办理" in html
    shot(page, "reopen-6-reopened")
    case.refresh_from_db()
    assert case.status == "handling" and case.holder_unit_id == w.township.pk


def test_the_form_works_without_scripts(resident_world, browser):
    """Scripts off (an old phone, or scripts not yet arrived): the plain form still reports."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.goto(scanned_link(resident_world))
    page.click("label.cat:has-text('停水、停电')")
    page.fill("#description", "我家停水两天了。")
    page.set_input_files("#photos", str(big_photo()))
    page.click("button.submit")
    page.wait_for_url("**/p/t/**")
    assert "已收到" in page.content()
    shot(page, "nojs-received")
    assert Case.dangerously_unscoped.get().attachments.count() == 1


def test_staff_record_a_follow_up_visit_for_a_resident_without_a_phone(resident_world, browser):
    """An elderly resident without a phone: the township office calls at the door and records the answer."""
    w = resident_world
    case = public_report(now=now(), category_code="livelihood_water", description="老人家里停水了",
                         idempotency_key=secrets.token_urlsafe(16), unit_id=w.grid_a1.pk).case
    handle(w, case)
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(str(w.live_url) + "/login/")
    page.fill("input[name=username]", "zhangwei")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{w.live_url}/cases/{case.pk}/")
    page.click("text=回访、结果照片与办理公开")  # reached from the case page, not by typing a URL
    page.wait_for_load_state()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.select_option("#outcome", "satisfied")
    page.fill("#comment", "老人说水已经通了，很满意。")
    page.screenshot(path=str(ARTIFACTS / "staff-1-follow-up-form.png"), full_page=True)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    assert "回访已记录" in page.content() and "上门回访：满意" in page.content()
    page.screenshot(path=str(ARTIFACTS / "staff-2-follow-up-recorded.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    case.refresh_from_db()
    assert case.status == "closed" and case.rating == 5


def test_the_general_page_takes_a_dropped_pin(resident_world, browser, settings):
    """No QR code at hand: the resident opens the map, taps where the problem is, and the case lands
    in the grid under the pin. The base map's tiles are answered locally (no network in tests)."""
    import io

    from PIL import Image

    settings.GRIDGOV_MAP_TILES = "tianditu"
    settings.GRIDGOV_TIANDITU_KEY = "test-key"
    blank = io.BytesIO()
    Image.new("RGB", (256, 256), "#e8efe3").save(blank, "PNG")
    page = phone(browser)
    page.route("https://*.tianditu.gov.cn/**", lambda route: route.fulfill(body=blank.getvalue(),
                                                                            content_type="image/png"))
    page.goto(f"{resident_world.live_url}/p/r/")
    page.click("label.cat:has-text('治安问题')")
    page.fill("#description", "路口的路灯坏了，晚上很黑。")
    page.click("#pin")
    page.wait_for_selector("#pin-map.leaflet-container")
    box = page.locator("#pin-map").bounding_box()
    # The map opens on the county's middle (113.5°E 39.5°N, a corner of 驼峰村第一网格): tap a little
    # north-east of it, inside that grid.
    page.mouse.click(box["x"] + box["width"] / 2 + 30, box["y"] + box["height"] / 2 - 30)
    page.wait_for_selector("#locate-status:has-text('已在地图上选好位置')")
    lat, lng = float(page.input_value("#lat")), float(page.input_value("#lng"))
    assert 39.5 < lat < 39.6 and 113.5 < lng < 113.6, (lat, lng)
    page.locator("#pin-map img.leaflet-marker-icon").wait_for()
    for _ in range(100):  # let the pin's picture arrive before the screenshot (no assertion on time)
        if page.evaluate("() => document.querySelector('#pin-map img.leaflet-marker-icon').naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    # The tiles themselves stay blank here: the CSP admits 天地图 only when it is configured at start-up.
    shot(page, "pin-1-map")
    page.click("button.submit")
    page.wait_for_url("**/p/t/**", timeout=120_000)
    case = Case.dangerously_unscoped.get()
    assert case.unit_id == resident_world.grid_c1.pk and abs(case.lat - lat) < 1e-5
    shot(page, "pin-2-received")
