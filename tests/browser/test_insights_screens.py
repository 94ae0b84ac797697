"""Screenshots of the dashboard, the map (with a grid's card open) and the wall screen, in Debian's
chromium through Playwright. Saved under artifacts/ for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from gridgov.units.services import unit_create
from tests.insights.conftest import L, _act, _report, build_april
from tests.world import build_world, square

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
APRIL = "start=2026-04-01&end=2026-04-30"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _richer(w) -> None:
    """A few more grids in 东坊村 with cases of several categories and sources, for fuller charts."""
    cats = ["sanitation", "dispute_neighbour", "livelihood_water", "illegal_building", "public_order", "labour_wages"]
    for i in range(4):
        g = unit_create(actor=None, now=L(3, 1, 9), parent=w.village_b, name=f"东坊村第{i + 2}网格", kind_code="grid",
                        serial=f"B{i + 2}", grid_type="residential",
                        boundary=square(113.2 + 0.1 * ((i + 1) % 2), 39.2 + 0.1 * ((i + 1) // 2), 0.1)).unit
        g.household_estimate = 40 + 7 * i
        g.save(update_fields=["household_estimate"])
        for k in range(3 + i):
            c = _report(w.zhang_wei, L(4, 2 + 3 * k + i, 9), g, category=cats[(i + k) % len(cats)],
                        channel=["hotline", "field", "walk_in", "wechat"][(i + k) % 4], title=f"东坊村事件{i}-{k}",
                        lat=39.2 + 0.1 * ((i + 1) // 2) + 0.05, lng=113.2 + 0.1 * ((i + 1) % 2) + 0.02 * (k + 1))
            _act(c, "accept", w.zhang_wei, L(4, 2 + 3 * k + i, 10))
            if k % 3 == 2:
                continue  # left open: overdue by now
            _act(c, "dispatch", w.zhang_wei, L(4, 2 + 3 * k + i, 11), department_id=w.department.pk)
            _act(c, "acknowledge", w.liu_yang, L(4, 3 + 3 * k + i, 9 + 3 * k))
            _act(c, "feedback", w.liu_yang, L(4, 4 + 3 * k + i, 10), result="已处理")
            _act(c, "review", w.zhang_wei, L(4, 4 + 3 * k + i, 11))
            _act(c, "confirm", w.zhang_wei, L(4, 5 + 3 * k + i, 9), rating=5 - (k + i) % 3)


def _page(browser, live_server, user, width=1280, height=900):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    # Failed requests are caught by URL below (the browser's own favicon probe is not ours).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    # No third-party requests: with tiles "none" (the default) everything comes from this server.
    page.on("request", lambda r: errors.append(f"third-party request {r.url}")
            if not r.url.startswith((live_server.url, "data:", "blob:")) else None)
    return page, errors


def test_dashboard_map_and_screen(live_server, browser):
    from gridgov.units import locate

    locate.invalidate()
    w = build_world()
    build_april(w)
    _richer(w)
    ARTIFACTS.mkdir(exist_ok=True)

    page, errors = _page(browser, live_server, w.zhang_wei)
    page.goto(f"{live_server.url}/dashboard/?{APRIL}")
    page.wait_for_selector("body[data-charts='4']", timeout=15000)
    page.wait_for_timeout(300)
    assert page.locator("#chart-category canvas").count() == 1
    assert "响应率" in page.inner_text(".kpis")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert not errors, errors

    page.goto(f"{live_server.url}/dashboard/map/?{APRIL}&rank=on_time_rate")
    page.wait_for_selector("body[data-map='ready']", timeout=15000)
    polygons = page.locator("path.leaflet-interactive")
    assert polygons.count() >= 7  # 7 grids plus case pins
    polygons.first.click()
    page.wait_for_selector("#grid-card[data-grid]")
    card = page.inner_text("#grid-card")
    assert "网格长" in card and "户数" in card and "在办事件" in card
    page.screenshot(path=str(ARTIFACTS / "map.png"), full_page=True)
    assert not errors, errors

    # Household density, with the case heat layer on top.
    page.goto(f"{live_server.url}/dashboard/map/?{APRIL}&color=households")
    page.wait_for_selector("body[data-map='ready']", timeout=15000)
    assert "事件热力" in page.inner_text(".leaflet-control-layers")
    assert "颜色越深户数越多" in page.inner_text("#map-legend")
    page.screenshot(path=str(ARTIFACTS / "map-households-heat.png"), full_page=True)
    assert not errors, errors

    page, errors = _page(browser, live_server, w.chen_jing, width=1920, height=1080)
    page.goto(f"{live_server.url}/dashboard/screen/?{APRIL}")
    page.wait_for_selector("body[data-charts='4']", timeout=15000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "screen.png"))
    assert not errors, errors

    page, errors = _page(browser, live_server, w.wang_fang, width=390, height=844)
    page.goto(f"{live_server.url}/dashboard/?{APRIL}")
    page.wait_for_selector("body[data-charts='3']", timeout=15000)
    page.screenshot(path=str(ARTIFACTS / "dashboard-grid-worker-phone.png"), full_page=True)
    assert "吴城村第二网格" not in page.content()
    assert not errors, errors
