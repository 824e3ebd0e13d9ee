"""Faults and rate limits on Gitee, GitCode and GitLab end in the same data as a clean run; no token leaks."""

from __future__ import annotations

import logging

import pytest

from collector import CollectorError, RetriesExhausted, TokenRejected
from tests.collector.helpers import collect
from tests.collector.platforms import PREFIX, TOKENS, clock, emulator, make_platform, world  # noqa: F401

PLATFORMS = ["gitee", "gitcode", "gitlab"]
PATH = "openharmony/docs"


def lists(platform: str) -> dict[str, str]:
    if platform == "gitlab":
        return {"commits": "/repository/commits$", "issues": "/issues$", "pulls": "/merge_requests$",
                "releases": "/releases$", "contributors": "/contributors$"}
    return {s: f"/{s}$" for s in ("commits", "issues", "pulls", "releases", "contributors")}


def clean_then_faulty(platform, make_platform, emulator, inject, **http):
    clean = collect(make_platform(platform), PATH)[0]
    emulator.clear_log()
    inject(emulator, lists(platform))
    faulty, _, stats = collect(make_platform(platform, **http), PATH)
    return clean, faulty, stats


@pytest.mark.parametrize("platform", PLATFORMS)
def test_5xx_bursts_end_in_the_same_data(platform, make_platform, emulator):
    def inject(emu, where):
        emu.inject("status", path=where["commits"], times=3, skip=1, status=502)
        emu.inject("status", path=where["issues"], times=2, status=503)
        emu.inject("status", path=where["pulls"], status=500)
    clean, faulty, stats = clean_then_faulty(platform, make_platform, emulator, inject)
    assert faulty == clean
    assert sum(s.retries for s in stats.values()) == 6


@pytest.mark.parametrize("platform", PLATFORMS)
def test_truncated_bodies_and_timeouts_end_in_the_same_data(platform, make_platform, emulator):
    def inject(emu, where):
        emu.inject("truncate", path=where["commits"], times=2, skip=1)
        emu.inject("truncate", path=where["contributors"])
        emu.inject("delay", path=where["releases"], seconds=0.6)
    clean, faulty, stats = clean_then_faulty(platform, make_platform, emulator, inject, timeout=0.3)
    assert faulty == clean
    assert stats["commits"].retries == 2 and stats["contributors"].retries == 1 and stats["releases"].retries == 1


@pytest.mark.parametrize("platform, status", [("gitee", 403), ("gitcode", 429), ("gitlab", 429)])
def test_throttling_waits_and_ends_in_the_same_data(platform, status, make_platform, emulator, clock):
    def inject(emu, where):
        emu.inject("secondary", path=where["commits"], skip=1, retry_after=30)
        emu.inject("secondary", path=where["issues"])
    clean, faulty, stats = clean_then_faulty(platform, make_platform, emulator, inject)
    assert faulty == clean
    assert [e.status for e in emulator.log if e.fault] == [status, status]
    assert 30 in clock.sleeps and any(s >= 60 for s in clock.sleeps)  # Retry-After, else at least a minute
    assert sum(s.rate_limit_waits for s in stats.values()) == 2


@pytest.mark.parametrize("platform", PLATFORMS)
def test_spent_window_waits_for_the_reset(platform, make_platform, emulator, clock):
    """GitCode and GitLab say when the window ends (x-ratelimit-reset; Retry-After or RateLimit-Reset); Gitee says
    nothing, so we back off and try again until it lets us through."""
    clean = collect(make_platform(platform), PATH)[0]
    token = TOKENS[platform][0][1]
    emulator.set_remaining(token, 3, reset_in=50)
    for other in TOKENS[platform][1:]:
        emulator.set_remaining(other[1], 0, reset_in=50)
    faulty, _, stats = collect(make_platform(platform), PATH)
    assert faulty == clean
    waits = sum(s.rate_limit_waits for s in stats.values())
    assert waits >= 1 and 50 <= sum(s.waited_seconds for s in stats.values()) <= 50 + 60 * waits


@pytest.mark.parametrize("platform", PLATFORMS)
def test_retries_give_up_with_a_clear_error(platform, make_platform, emulator):
    emulator.inject("status", path=lists(platform)["releases"], times=50, status=502)
    with pytest.raises(RetriesExhausted, match="releases"):
        collect(make_platform(platform, max_retries=2), PATH, streams=["releases"])


def test_gitlab_429_without_retry_after_uses_ratelimit_reset(make_platform, emulator, clock):
    token = TOKENS["gitlab"][0][1]
    emulator.set_remaining(token, 0, reset_in=120)
    emulator.platform("gitlab").throttled = 1  # the next 429 comes without Retry-After
    records, _, stats = collect(make_platform("gitlab"), PATH, streams=["releases"])
    assert len(records["releases"]) == 2
    assert clock.sleeps == [pytest.approx(120, abs=1)] and stats["releases"].rate_limit_waits == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_tokens_never_appear_in_logs_errors_records_or_bookmarks(platform, make_platform, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    where = lists(platform)
    emulator.inject("status", path=where["commits"], times=2, status=502)
    emulator.inject("truncate", path=where["releases"])
    emulator.inject("secondary", path=where["pulls"], retry_after=5)
    texts = []
    collector = make_platform(platform)
    for path in (PATH, "acme/big", "acme/empty", "acme/deleted"):
        records, bookmarks, stats = collect(collector, path)
        texts += [repr(records), repr(bookmarks), repr(stats)]
    texts.append(repr(collector.list_repositories("acme")))
    errors = []
    bad = [("MTX_TEST_BAD", f"{platform}_SECRETbad0000000000000000")]
    with pytest.raises(TokenRejected) as caught:
        collect(make_platform(platform, bad), PATH, streams=["commits"])
    errors.append(caught.value)
    for _, value in TOKENS[platform]:
        emulator.set_remaining(value, 0, reset_in=3600)
    with pytest.raises(CollectorError) as caught:
        collect(make_platform(platform, max_wait=1, max_slowdowns=1), PATH, streams=["commits"])
    errors.append(caught.value)
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + [repr(collector.pool.credentials)]
    texts += [record.getMessage() for record in caplog.records] + [caplog.text]
    everything = "\n".join(texts)
    assert "SECRET" not in everything
    assert "MTX_TEST_BAD" in everything
    assert len(caplog.records) > 10, "the log was captured"
    if platform == "gitee":
        assert "HTTP Request: GET" in caplog.text  # httpx's own request log was seen, and it is clean
