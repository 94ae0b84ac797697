from __future__ import annotations

import datetime as dt

import pytest

from gridgov.core.errors import ValidationFailed
from gridgov.residents import idnumber, phones

TODAY = dt.date(2026, 3, 2)


def test_valid_number_gives_birth_date_and_gender():
    info = idnumber.parse("11010519491231002X", today=TODAY)
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.gender == "F"
    assert info.number.endswith("X")


def test_lower_case_x_full_width_and_spaces_are_accepted():
    assert idnumber.parse(" １１０１０５１９４９１２３１００２x ", today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("110105194912310021", "校验位"),
        ("11010519491331002X", "出生日期"),
        ("99010519491231002X", "地区代码"),
        ("1101051949123100", "18 位"),
        ("1.10105E+17", "科学计数法"),
        ("", "请填写"),
        ("11010520990101002X", "不合理"),
        ("11A10519491231002X", "数字"),
    ],
)
def test_bad_numbers_are_refused_in_chinese(raw, message):
    with pytest.raises(ValidationFailed) as exc:
        idnumber.parse(raw, today=TODAY)
    assert message in exc.value.message


def test_fifteen_digit_legacy_number_is_upgraded():
    info = idnumber.parse("110105491231002", today=TODAY)
    assert info.upgraded_from_15
    assert info.number == "11010519491231002X"


def test_excel_float_is_read_as_text():
    assert idnumber.normalize(110105491231002.0) == "110105491231002"


def test_age_and_sensitive_minor():
    assert idnumber.age_on(dt.date(2012, 3, 3), TODAY) == 13
    assert idnumber.is_sensitive_minor(dt.date(2012, 3, 3), TODAY)
    assert not idnumber.is_sensitive_minor(dt.date(2012, 3, 2), TODAY)


def test_mask():
    assert idnumber.mask("14010519491231123X") == "1401**********123X"
    assert phones.mask("13812345678") == "138****5678"
    assert phones.mask("0352-8123456") == "0352-***3456"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("13812345678", "13812345678"), ("+86 138 1234 5678", "13812345678"), (13812345678.0, "13812345678"),
     ("0352-8123456", "0352-8123456"), ("03528123456", "0352-8123456"), ("010-12345678", "010-12345678"),
     ("(0352)8123456", "0352-8123456"), ("", "")],
)
def test_phone_normalisation(raw, canonical):
    assert phones.normalize(raw) == canonical


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "8123456", "138-1234-567a", "0000-1234567"])
def test_bad_phones_are_refused(raw):
    with pytest.raises(ValidationFailed):
        phones.normalize(raw)
