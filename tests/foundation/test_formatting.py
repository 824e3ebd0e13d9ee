"""Money, dates and times shown one way (tracker.formatting), and user dates read as Beijing dates."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.formatting import (age_text, beijing_day_end, beijing_today, date_text, parse_user_date, time_text, when,
                                yuan)

UTC = dt.timezone.utc


@pytest.mark.parametrize("amount, shown", [
    (500_000, "50万元"), (200_000, "20万元"), (10_000, "1万元"), (12_000_000, "1,200万元"),
    (12_345, "12,345 元"), (15_000, "15,000 元"), (999, "999 元"), (0, "0 元"), (None, "—"), (300000.0, "30万元"),
])
def test_yuan(amount, shown):
    assert yuan(amount) == shown


def test_dates_are_iso_and_instants_show_their_beijing_date():
    assert date_text(dt.date(2026, 3, 1)) == "2026-03-01"
    assert date_text(dt.datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == "2026-11-01"  # 00:30 in Beijing
    assert date_text(None) == "—"


def test_times_are_beijing_times_and_say_so():
    assert time_text(dt.datetime(2026, 10, 31, 14, 0, tzinfo=UTC)) == "2026-10-31 22:00 北京时间"
    assert time_text(dt.datetime(2026, 10, 31, 14, 0, 5, tzinfo=UTC), seconds=True) == "2026-10-31 22:00:05 北京时间"
    assert when(dt.datetime(2026, 12, 31, 20, 0, tzinfo=UTC)) == "2027-01-01 04:00 北京时间"
    assert when(dt.date(2026, 12, 31)) == "2026-12-31"
    with pytest.raises(ValueError, match="naive"):
        time_text(dt.datetime(2026, 1, 1))


def test_a_user_date_ends_at_midnight_beijing_time():
    end = beijing_day_end(dt.date(2026, 10, 31))
    assert end == dt.datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert end.tzinfo == UTC
    last_second = dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert last_second < end <= last_second + dt.timedelta(seconds=1)
    assert beijing_day_end(dt.date(2026, 12, 31)) == dt.datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_today_is_the_beijing_date():
    assert beijing_today(dt.datetime(2026, 10, 31, 17, 0, tzinfo=UTC)) == dt.date(2026, 11, 1)
    assert beijing_today(dt.datetime(2026, 10, 31, 15, 59, tzinfo=UTC)) == dt.date(2026, 10, 31)


@pytest.mark.parametrize("typed", ["2026/10/31", "31.10.2026", "20261031", "2026-1-31", "yesterday", ""])
def test_only_iso_dates_are_accepted(typed):
    with pytest.raises(ValueError):
        parse_user_date(typed)


def test_parse_user_date():
    assert parse_user_date("2026-10-31") == dt.date(2026, 10, 31)
    assert parse_user_date(" today ", today=dt.date(2026, 5, 1)) == dt.date(2026, 5, 1)


@pytest.mark.parametrize("ago, shown", [
    (dt.timedelta(seconds=30), "刚刚"), (dt.timedelta(minutes=12, seconds=59), "12 分钟前"),
    (dt.timedelta(hours=5, minutes=59), "5 小时前"), (dt.timedelta(days=3, hours=23), "3 天前"),
    (dt.timedelta(days=1200), "1,200 天前"),
])
def test_an_age_is_said_in_its_largest_whole_unit(ago, shown):
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert age_text(now - ago, now) == shown
    assert age_text(None, now) == "—"
