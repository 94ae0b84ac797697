"""The leak guard itself: it must be able to fail."""

from __future__ import annotations

import pytest

from gridgov.cases.intake import case_report
from tests.world import T0

from .leakscan import scan

pytestmark = pytest.mark.django_db


def test_the_scanner_finds_each_kind_of_leak(pworld):
    case = case_report(actor=None, now=T0, title="t", description="东头第三家门口漏水", category_code="other",
                       channel="public", unit_id=pworld.grid_a1.pk, reporter_name="张三丰",
                       reporter_phone="13800001111", address="吴城村东街12号").case
    page = ("身份证 140225199001011234 电话 13800001111 办公 0352-8123456 催办 张三丰 吴城村东街12号 "
            f"东头第三家门口漏水 王芳 {case.number}")
    problems = scan(page, path="/p/t/x/", board_page=False)
    for expected in ("ID number", "phone number 13800001111", "phone number 0352-8123456", "催办",
                     "reporter name", "address", "description", "staff name"):
        assert any(expected in p for p in problems), (expected, problems)
    # On the grid page the staff's names and work phones are published by design (the board prints them).
    board = scan("王芳 0352-8123456", path="/p/g/x/", board_page=True)
    assert board == []
    assert scan(f"{case.number} 已提交", path="/p/t/x/", board_page=False) == []


def test_the_guard_wraps_the_test_client(pworld, client, public_leak_guard):
    from tests.conftest import SCANNED

    before = len(SCANNED)
    client.get("/p/r/")
    assert len(SCANNED) == before + 1 and SCANNED[-1] == "/p/r/"


def test_the_guard_reads_open311_json_too(pworld, client, public_leak_guard, settings, monkeypatch):
    from gridgov.interfaces.api import open311

    settings.GRIDGOV_OPEN311_KEYS = {"k-1": "12345热线"}
    case = case_report(actor=None, now=T0, title="t", description="东头第三家门口漏水", category_code="other",
                       channel="public", unit_id=pworld.grid_a1.pk, address="吴城村东街12号").case
    leaky = open311._public_request
    monkeypatch.setattr(open311, "_public_request", lambda c: {**leaky(c), "address": c.address})
    client.get(f"/open311/v2/requests/{case.number}.json?api_key=k-1")
    assert any("address of" in p for p in public_leak_guard), public_leak_guard
    public_leak_guard.clear()  # the leak was planted: the test passes when it was seen
