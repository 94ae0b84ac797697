"""Pages load no third-party resources (等保 level 3; residents' phones and county intranets): Chromium
visits the main staff pages (as a township office) and the residents' pages; any request to another
origin, or any resource the Content-Security-Policy had to block, fails the test."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_PAGES = ["/", "/units/", "/households/", "/cases/", "/cases/new/", "/cases/map/", "/inbox/", "/dashboard/",
               "/dashboard/map/", "/dashboard/screen/", "/dashboard/reports/", "/exports/", "/password/", "/api/docs"]


def foreign(urls: list[str], origin: str) -> list[str]:
    """Requests that leave the site's origin (data: and blob: URLs stay in the page)."""
    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about")
            and f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" != origin]


class Watch:
    def __init__(self, page: Any) -> None:
        self.requests: list[str] = []
        self.blocked: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.blocked.append(f"{page.url}: {m.text[:160]}")
                if "Content Security Policy" in m.text else None)


def visit(page: Any, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    page.wait_for_load_state("networkidle")


def test_the_detector_sees_a_third_party_request(page, live_server):
    watch = Watch(page)
    page.set_content('<img src="http://cdn.example.invalid/x.png">')
    page.wait_for_timeout(300)
    assert foreign(watch.requests, live_server.url) == ["http://cdn.example.invalid/x.png"]


def test_staff_and_public_pages_load_nothing_from_another_origin(page, live_world, browser_login):
    from gridgov.cases.catalogue import seed_categories
    from gridgov.cases.models import Category, default_deadlines
    from gridgov.cases.public.services import public_report
    from gridgov.core.clock import now
    from gridgov.interfaces.public.links import grid_token

    if not Category.objects.exists():
        seed_categories(Category, default_deadlines())
    case = public_report(now=now(), category_code="sanitation", description="村口垃圾没人清运",
                         idempotency_key=secrets.token_urlsafe(16), unit_id=live_world.grid_a1.pk, phone="",
                         photos=[]).case
    watch = Watch(page)
    base = live_world.url
    public = ["/login/", f"/p/g/{grid_token(live_world.grid_a1.pk)}/", "/p/r/", "/p/t/", f"/p/t/{case.tracking_token}/"]
    for path in public:
        visit(page, base + path)
    screenshot(page, "no-third-party-public")
    browser_login(page, live_world.zhang_wei)
    for path in [*STAFF_PAGES, f"/units/{live_world.township.pk}/", f"/units/{live_world.grid_a1.pk}/",
                 f"/cases/{case.pk}/"]:
        visit(page, base + path)
    screenshot(page, "no-third-party-staff")
    visited = {urlsplit(u).path for u in watch.requests}
    assert "/static/htmx/htmx.min.js" in visited or any(p.endswith(".js") for p in visited)
    assert not foreign(watch.requests, base), foreign(watch.requests, base)
    assert not watch.blocked, watch.blocked
