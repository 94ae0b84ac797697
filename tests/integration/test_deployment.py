"""Two app servers and two workers against one PostgreSQL and one Redis (issue: scale, item 2)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request

import pytest

from gridgov.access.services import grant_create, user_create
from gridgov.audit.chain import verify
from gridgov.audit.models import AuditEvent
from gridgov.audit.services import audit_record
from gridgov.units.services import unit_create
from tests.world import T0

pytestmark = pytest.mark.integration


def opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def test_a_session_made_on_one_server_works_on_the_other(deployment):
    county = unit_create(actor=None, now=T0, parent=None, name="浑源县", kind_code="county").unit
    user = user_create(actor=None, now=T0, username="crossuser", full_name="跨服", password="Cross-Server-2026!",
                       validate=False)
    grant_create(actor=None, now=T0, user=user, role_code="county_office", unit=county)
    browser = opener()
    page = browser.open(deployment.url(0, "/login/")).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": "crossuser", "password": "Cross-Server-2026!",
                                   "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(deployment.url(0, "/login/"), data=data,
                                     headers={"Referer": deployment.url(0, "/login/")})
    browser.open(request)
    # Same cookies, the other server: the tree page answers with the county.
    tree = browser.open(deployment.url(1, "/units/"))
    assert tree.url.endswith("/units/")
    assert "浑源县" in tree.read().decode()


def test_sealing_jobs_on_two_workers_seal_every_row_once(deployment):
    from gridgov.audit.tasks import audit_seal

    for i in range(300):
        audit_record(action="test.integration", actor=None, now=T0, detail={"i": i})
    results = [audit_seal.apply_async(kwargs={"batch": 40}) for _ in range(20)]
    sealed = sum(r.get(timeout=60) for r in results)
    total = AuditEvent.objects.count()
    assert AuditEvent.objects.filter(seq__isnull=True).count() == max(0, total - sealed)
    while AuditEvent.objects.filter(seq__isnull=True).exists():
        audit_seal.apply_async().get(timeout=60)
    assert list(verify()) == []
    assert AuditEvent.objects.filter(seq__isnull=False).count() == total
