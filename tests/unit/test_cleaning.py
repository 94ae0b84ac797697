"""gridgov.core.cleaning: the one place input is cleaned; the messages are the ones people read."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.core import cleaning
from gridgov.core.errors import ValidationFailed


def test_text_strips_and_refuses_empty_and_long():
    assert cleaning.text("  门口  ", field="f", label="地址", max_length=10) == "门口"
    assert cleaning.text(None, field="f", label="地址", max_length=10) == ""
    with pytest.raises(ValidationFailed, match=r"^请填写地址。$") as exc:
        cleaning.text("  ", field="address", label="地址", max_length=10, required=True)
    assert exc.value.field == "address"
    with pytest.raises(ValidationFailed, match=r"^地址不能超过 3 个字。$"):
        cleaning.text("一二三四", field="f", label="地址", max_length=3)


def test_text_refuses_nul_only_when_asked():
    assert cleaning.text("a\x00b", field="f", label="标题", max_length=10) == "a\x00b"
    with pytest.raises(ValidationFailed, match=r"^标题中含有无法处理的字符。$"):
        cleaning.text("a\x00b", field="f", label="标题", max_length=10, reject_nul=True)


@pytest.mark.parametrize("value", [None, "", "x", "1.5", True])
def test_integer_refuses_what_is_not_a_whole_number(value):
    with pytest.raises(ValidationFailed, match=r"^次数应为整数。$"):
        cleaning.integer(value, field="n", message="次数应为整数。")


def test_integer_and_optional_integer():
    assert cleaning.integer(" 12 ", field="n", message="m") == 12
    assert cleaning.optional_integer("", field="n", message="m") is None
    assert cleaning.optional_integer(None, field="n", message="m") is None
    assert cleaning.optional_integer("7", field="n", message="m") == 7


def test_dates():
    assert cleaning.date("2026-03-02", field="d", label="日期") == dt.date(2026, 3, 2)
    assert cleaning.date(dt.datetime(2026, 3, 2, 9), field="d", label="日期") == dt.date(2026, 3, 2)
    assert cleaning.optional_date(" ", field="d", label="日期") is None
    with pytest.raises(ValidationFailed, match=r"^请填写开始日期。$"):
        cleaning.date("", field="d", label="开始日期")
    with pytest.raises(ValidationFailed, match=r"^开始日期格式不正确，应为 2026-03-02 这样的日期。$"):
        cleaning.date("2026-13-01", field="d", label="开始日期")
    with pytest.raises(ValidationFailed, match=r"^自定义$"):
        cleaning.optional_date("soon", field="d", label="开始日期", message="自定义")


@pytest.mark.parametrize("written", ["2024-05-01", "2024/5/1", "2024.5.1", "2024年5月1日"])
def test_loose_dates_read_what_cadres_type(written):
    assert cleaning.optional_date(written, field="d", label="出生日期", loose=True) == dt.date(2024, 5, 1)


def test_query_readers_never_raise():
    assert cleaning.query_int(" 42 ") == 42
    assert [cleaning.query_int(v) for v in (None, "", "-1", "abc", "1" * 19)] == [None] * 5
    assert cleaning.query_date("2026-03-02") == dt.date(2026, 3, 2)
    assert [cleaning.query_date(v) for v in (None, "", "2026-02-30")] == [None] * 3


def test_choice():
    from django.db import models

    class Colour(models.TextChoices):
        RED = "red", "红"

    assert cleaning.choice(" red ", Colour, field="c", label="颜色") == "red"
    with pytest.raises(ValidationFailed, match=r"^请选择颜色。$"):
        cleaning.choice("红", Colour, field="c", label="颜色")
