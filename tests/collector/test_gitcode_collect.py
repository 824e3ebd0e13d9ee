"""GitCode's own quirks, and the OpenHarmony mirror: the same history on GitCode, Gitee and GitHub."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import httpx

from collector.normalise import plain_login
from collector.timeutil import CHINA, parse_time
from tests.collector import expected_platforms as expected
from tests.collector.helpers import collect
from tests.collector.platforms import (MIRROR, NAMELESS, PREFIX, TOKENS, clock, emulator, make_platform,  # noqa: F401
                                       world)


def test_zone_less_times_are_beijing_time():
    assert parse_time("2024-04-14T15:18:54", naive_zone=CHINA) == datetime(2024, 4, 14, 7, 18, 54, tzinfo=timezone.utc)
    assert parse_time("2024-04-14T07:18:54.000Z") == parse_time("2024-04-14T15:18:54.000+08:00")


def test_nickname_logins_and_nameless_authors(make_platform, world, emulator):
    raw = httpx.get(f"{emulator.url}{PREFIX['gitcode']}/repos/acme/big/commits", params={"per_page": 100},
                    headers={"PRIVATE-TOKEN": TOKENS["gitcode"][0][1]}).json()
    nick = next(c["author"]["login"] for c in raw if c["author"])
    assert "(" in nick and plain_login(nick) == nick.split("(")[0]
    assert "name" not in next(c["commit"]["author"] for c in raw if c["commit"]["author"]["email"] == NAMELESS)
    records = collect(make_platform("gitcode"), "acme/big", streams=["commits"])[0]["commits"]
    assert not [c for c in records if c.author_login and "(" in c.author_login]
    [nameless] = [c for c in records if c.author_email == NAMELESS]
    assert nameless.author_name is None


def test_gitcode_asks_authors_and_updated_after_with_the_token_in_a_header(make_platform, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    gitcode = make_platform("gitcode")
    _, bookmarks, _ = collect(gitcode, MIRROR)
    emulator.clear_log()
    collect(gitcode, MIRROR, bookmarks)
    asked = {e.path.rsplit("/", 1)[-1]: e.query for e in emulator.log}
    assert "updated_after" in asked["issues"] and "updated_after" in asked["pulls"]
    assert not any("access_token" in e.query for e in emulator.log)
    contributors = [e for e in emulator.log if e.path.endswith("/contributors")]
    assert contributors == []  # nothing pushed: skipped on the re-run
    assert "type=authors" in caplog.text
    assert TOKENS["gitcode"][0][1] not in caplog.text


def test_mirror_has_the_same_shas_on_gitcode_gitee_and_github(make_platform, world):
    """Stored per repository; the community counts each sha once (the job/metrics dedupe on sha)."""
    model = world.repo_by_name(MIRROR)
    shas = {}
    for platform in ("gitcode", "gitee", "github"):
        commits = collect(make_platform(platform), MIRROR, streams=["commits"])[0]["commits"]
        shas[platform] = [c.sha for c in commits]
    assert shas["gitcode"] == shas["gitee"] == shas["github"] == [c.sha for c in model.commits]
    assert len(set().union(*map(set, shas.values()))) == 300
    gitcode = collect(make_platform("gitcode"), MIRROR, streams=["commits"])[0]["commits"]
    assert gitcode == expected.commits(world, model, "gitcode")


def test_mirror_issues_inside_the_window_count_comments_and_first_responses(make_platform, world):
    from tests.collector.conftest import NOW
    model = world.repo_by_name(MIRROR)
    records = collect(make_platform("gitcode"), MIRROR, streams=["issues", "pulls"])[0]
    want = expected.issues(model, "gitcode", NOW)
    assert {i.number: i for i in records["issues"]} == want
    assert any(i.first_response_at for i in want.values()) and any(i.comments for i in want.values())
    assert {p.number: p for p in records["pulls"]} == expected.pulls(model, "gitcode", NOW)
    outside = {i.number for i in records["issues"] if i.updated_at < NOW - timedelta(days=180)}
    assert {i.number for i in records["issues"] if i.comments is None} == outside  # no count in GitCode's list
