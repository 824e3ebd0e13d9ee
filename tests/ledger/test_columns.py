"""Cells as the office types them: dates, yes/no, product types, headers."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.ledger.columns import (
    CellError, header_key, HEADER_LOOKUP, normalise_product_name, parse_date, parse_product_type, parse_status,
    parse_yes_no)

TODAY = dt.date(2026, 1, 15)


@pytest.mark.parametrize("value, expected", [
    ("2025-03-01", dt.date(2025, 3, 1)),
    ("2025/3/1", dt.date(2025, 3, 1)),
    ("2025.3.1", dt.date(2025, 3, 1)),
    ("2025年3月1日", dt.date(2025, 3, 1)),
    ("20250301", dt.date(2025, 3, 1)),
    ("2025-03-01 00:00:00", dt.date(2025, 3, 1)),
    (45717, dt.date(2025, 3, 1)),              # an Excel serial number
    ("45717", dt.date(2025, 3, 1)),
    (dt.datetime(2025, 3, 1), dt.date(2025, 3, 1)),
    (dt.date(2025, 3, 1), dt.date(2025, 3, 1)),
])
def test_dates(value, expected):
    assert parse_date(value, TODAY) == expected


@pytest.mark.parametrize("value, code", [
    ("", "missing"), ("2025-02-30", "bad_date"), ("3/1/2025", "bad_date"), ("下周", "bad_date"),
    ("2027-01-01", "future_date"), ("2015-01-01", "date_too_early"), (dt.datetime(2025, 3, 1, 9, 30), "date_has_time"),
    (12.5, "bad_date"),
])
def test_bad_dates(value, code):
    with pytest.raises(CellError) as info:
        parse_date(value, TODAY)
    assert info.value.code == code


@pytest.mark.parametrize("value, expected", [
    ("开发板", "开发板"), ("整机", "设备"), ("设备（整机）", "设备"), ("Module", "模组"), (" software ", "软件"),
    ("发行版", "发行版"),
])
def test_product_types(value, expected):
    assert parse_product_type(value) == expected


def test_unknown_product_type_lists_the_choices():
    with pytest.raises(CellError) as info:
        parse_product_type("芯片")
    assert "开发板 / 模组 / 设备 / 发行版 / 软件" in info.value.fix


@pytest.mark.parametrize("value, expected", [("是", True), ("否", False), ("Y", True), ("no", False), ("", None),
                                             (None, None), (True, True)])
def test_yes_no(value, expected):
    assert parse_yes_no(value, None) is expected


def test_status_defaults_to_valid():
    assert parse_status("") == "valid" and parse_status("已撤销") == "revoked"


@pytest.mark.parametrize("header, key", [("统一社会信用代码", "uscc"), ("USCC", "uscc"), ("证书编号*", "cert_no"),
                                         ("Cert_No", "cert_no"), ("产品名称（必填）", "product_name"),
                                         ("pass date", "pass_date")])
def test_headers_in_chinese_or_english(header, key):
    assert HEADER_LOOKUP[header_key(header)] == key


def test_product_names_match_ignoring_spaces_case_and_width():
    assert normalise_product_name("星辰 A1 开发板") == normalise_product_name("星辰Ａ１-开发板") \
        == normalise_product_name("星辰a1开发板")
