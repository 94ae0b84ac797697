"""The suite-wide log capture (root conftest, tests/logguard.py) can fail: it finds secrets and
unmasked personal data in log records, and lets masked values through."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.conf import settings

from gridgov.residents import idnumber
from tests.logguard import Capture, record_text, scan
from tests.world import PASSWORD

FULL_ID = idnumber.make("140225", dt.date(1975, 4, 12), 311)


def test_every_test_runs_under_the_log_capture():
    root = logging.getLogger()
    assert any(isinstance(h, Capture) for h in root.handlers)


@pytest.mark.parametrize("line", [
    f"user logged in with password {PASSWORD}",
    f"settings: SECRET_KEY={settings.SECRET_KEY}",
    f"looked up resident {FULL_ID}",
    "calling back 13912345678 about case 7",
    "sealed 0352-7654321",
    "Authorization: Bearer ggt_cQL_P2E55ogARAnPYexqSeQY77aY21g2OGSwy624a74",
])
def test_the_guard_finds_leaks(line):
    assert scan([line], sealed={"0352-7654321"})


@pytest.mark.parametrize("line", [
    "looked up resident 1402**********311X",
    "calling back 139****5678 about case 7",
    "GET /households/12/ 200 request 3f2a9c1e0d7b4a55",
    "api token ggt_cQL_P2… revoked",
])
def test_masked_values_pass(line):
    assert not scan([line], sealed={"0352-7654321"})


def test_extra_fields_and_exceptions_are_scanned_too():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    record.phone = "13912345678"
    assert scan([record_text(record)], sealed=())
    try:
        raise ValueError(FULL_ID)
    except ValueError as exc:
        bad = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, (type(exc), exc, None))
    assert scan([record_text(bad)], sealed=())
