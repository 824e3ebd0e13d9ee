"""Small pure pieces: bot patterns, time normalisation, the registry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from collector import BotRules, is_bot, platform_class, platform_names
from collector.timeutil import CHINA, parse_time


@pytest.mark.parametrize("login, email, name, expected", [
    ("dependabot[bot]", None, None, True),
    ("renovate-bot", None, None, True),
    ("openharmony_ci_bot", None, None, True),
    ("alice", None, None, False),
    (None, "49699333+dependabot[bot]@users.noreply.github.com", None, True),
    (None, "12345+alice@users.noreply.github.com", None, False),
    (None, "noreply@github.com", None, True),
    (None, "alice@example.org", "github-actions[bot]", True),
])
def test_default_bot_patterns(login, email, name, expected):
    assert is_bot(login, email, name) is expected


def test_bot_patterns_are_configurable():
    rules = BotRules(logins=("ci-*",), emails=(), names=(), exact_logins=frozenset({"OpenHarmony_CI"}))
    assert rules.is_bot("ci-runner") and rules.is_bot("openharmony_ci")
    assert not rules.is_bot("dependabot[bot]")
    assert rules.is_bot("someone", account_type="Bot")


@pytest.mark.parametrize("text, zone, expected", [
    ("2024-05-01T08:00:00Z", timezone.utc, datetime(2024, 5, 1, 8, tzinfo=timezone.utc)),
    ("2024-05-01T16:00:00+08:00", timezone.utc, datetime(2024, 5, 1, 8, tzinfo=timezone.utc)),
    ("2024-05-01T08:00:00.000Z", timezone.utc, datetime(2024, 5, 1, 8, tzinfo=timezone.utc)),
    ("2024-05-01 16:00:00", CHINA, datetime(2024, 5, 1, 8, tzinfo=timezone.utc)),
    (None, timezone.utc, None),
])
def test_times_become_aware_utc(text, zone, expected):
    moment = parse_time(text, naive_zone=zone)
    assert moment == expected
    assert moment is None or moment.utcoffset() == timedelta(0)


def test_registry_finds_github_by_name():
    assert "github" in platform_names()
    assert platform_class("github").name == "github"
    with pytest.raises(KeyError, match="unknown platform 'nope'"):
        platform_class("nope")


from hypothesis import given, strategies as st

from collector import Bookmark, Validators
from collector.http import parse_link_header

_pages = st.integers(min_value=1, max_value=10_000)


@given(next_page=_pages, last_page=_pages, per_page=st.integers(1, 100))
def test_link_header_parsing_matches_githubs_joining(next_page, last_page, per_page):
    base = "http://127.0.0.1:8080/api/v3/repos/o/r/commits"
    header = ", ".join([f'<{base}?per_page={per_page}&page={next_page}>; rel="next"',
                        f'<{base}?per_page={per_page}&page={last_page}>; rel="last"'])
    assert parse_link_header(header) == {"next": f"{base}?per_page={per_page}&page={next_page}",
                                         "last": f"{base}?per_page={per_page}&page={last_page}"}


@given(cursor=st.none() | st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
       etag=st.text(min_size=1, max_size=40), location=st.none() | st.from_regex(r"repositories/[0-9]{1,9}", fullmatch=True))
def test_bookmark_json_round_trip(cursor, etag, location):
    mark = Bookmark(stream="commits", cursor=cursor, validators={"http://h/x?a=1": Validators(etag=etag)},
                    location=location)
    assert Bookmark.from_json(mark.dumps(), "commits") == mark
