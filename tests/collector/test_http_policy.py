"""The shared HTTP layer: token pool, rate-limit waits, max_wait, 401 naming the variable, backoff."""

from __future__ import annotations

import pytest

from collector import HttpSettings, QuotaExhausted, TokenPool, TokenRejected, Transport
from collector.http import RequestStats, parse_link_header, redact_url
from collector.ratelimit import GiteeRules, GitHubRules, GitLabRules, Verdict
from tests.collector.conftest import TOKENS
from tests.collector.helpers import collect


def test_first_token_exhausted_moves_to_the_next(make_github, emulator, world, clock):
    emulator.set_remaining(TOKENS[0][1], 3, reset_in=3000)
    emulator.set_remaining(TOKENS[1][1], 4000, reset_in=3000)
    github = make_github()
    records, _, _ = collect(github, "acme/big", streams=["commits"])
    assert len(records["commits"]) == 1234
    used = [e.token_index for e in emulator.log if e.path != "/rate_limit"]
    assert set(used) == {1}, "the pool should start with the token that has most quota left"


def test_spent_token_answers_403_and_the_pool_moves_to_the_next(make_github, emulator, clock):
    github = make_github()
    collect(github, "acme/unlinked", streams=["repo"])  # the pool learns both quotas from /rate_limit
    a, b = github.pool.credentials
    github.pool.observe(a, 4900, 5000, None)  # we believe A is the better token...
    github.pool.observe(b, 4000, 5000, None)
    emulator.set_remaining(TOKENS[0][1], 0, reset_in=3000)  # ...but another process spent it meanwhile
    emulator.clear_log()
    records, _, stats = collect(github, "acme/unlinked", streams=["commits"])
    assert len(records["commits"]) == 60
    assert [(e.token_index, e.status) for e in emulator.log][:2] == [(0, 403), (1, 200)]
    assert {e.token_index for e in emulator.log[1:]} == {1}
    assert a.remaining == 0 and stats["commits"].rate_limit_waits == 0
    assert not clock.sleeps


def test_all_tokens_spent_waits_for_the_earliest_reset(make_github, emulator, clock):
    emulator.set_remaining(TOKENS[0][1], 0, reset_in=900)
    emulator.set_remaining(TOKENS[1][1], 0, reset_in=300)
    github = make_github(max_wait=1000)
    records, _, stats = collect(github, "acme/unlinked", streams=["commits"])
    assert len(records["commits"]) == 60
    assert stats["commits"].rate_limit_waits == 1
    assert 300 <= stats["commits"].waited_seconds <= 302
    assert clock.sleeps == [pytest.approx(stats["commits"].waited_seconds)]


def test_all_tokens_spent_stops_at_max_wait_naming_the_variables(make_github, emulator, clock):
    emulator.set_remaining(TOKENS[0][1], 0, reset_in=3000)
    emulator.set_remaining(TOKENS[1][1], 0, reset_in=3500)
    github = make_github(max_wait=600)
    with pytest.raises(QuotaExhausted) as caught:
        collect(github, "acme/unlinked", streams=["commits"])
    message = str(caught.value)
    assert "$MTX_TEST_GH_TOKEN_A" in message and "$MTX_TEST_GH_TOKEN_B" in message and "max_wait 600" in message
    assert not clock.sleeps


def test_401_names_the_environment_variable_not_the_token(make_github):
    github = make_github(tokens=[("MTX_TEST_BAD_TOKEN", "ghp_not_a_registered_token_value")])
    with pytest.raises(TokenRejected) as caught:
        collect(github, "acme/big", streams=["repo"])
    assert "$MTX_TEST_BAD_TOKEN" in str(caught.value)
    assert "ghp_not_a_registered_token_value" not in str(caught.value)


def test_secondary_limit_waits_retry_after_or_at_least_a_minute(make_github, emulator, clock):
    emulator.inject("secondary", path="/commits$", retry_after=42)
    emulator.inject("secondary", path="/commits$", skip=1)
    records, _, stats = collect(make_github(), "acme/unlinked", streams=["commits"])
    assert len(records["commits"]) == 60
    assert clock.sleeps[0] == 42 and clock.sleeps[1] >= 60
    assert stats["commits"].rate_limit_waits == 2


def test_primary_limit_answered_with_429_is_understood(world, clock):
    from tests.emulator import running_emulator
    from collector import open_platform
    with running_emulator(world, clock=clock.now, rate_limit_status=429) as emu:
        emu.add_token("only-token")
        emu.inject("primary", path="/commits$")  # spent by someone else: our pool still believes 5000 left
        github = open_platform("github", tokens=[("ONLY", "only-token")], base_url=emu.url,
                               http=HttpSettings(sleep=clock.sleep, clock=clock.now, max_wait=4000))
        records, _, stats = collect(github, "acme/unlinked", streams=["commits"])
        assert len(records["commits"]) == 60
        assert [e.status for e in emu.log][:3] == [200, 429, 200]  # /rate_limit, spent, after the reset
        assert stats["commits"].rate_limit_waits == 1 and 3000 < stats["commits"].waited_seconds <= 3602


class FakeResponse:
    def __init__(self, status, headers=None, text=""):
        self.status, self.headers, self.text = status, headers or {}, text


@pytest.mark.parametrize("rules, response, verdict, wait", [
    (GitHubRules(), FakeResponse(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "100"}, "API rate limit"),
     Verdict.TOKEN_SPENT, None),
    (GitHubRules(), FakeResponse(403, {"retry-after": "30"}, '{"message":"You have exceeded a secondary rate limit"}'),
     Verdict.SLOW_DOWN, 30),
    (GitHubRules(), FakeResponse(403, {"x-ratelimit-remaining": "10"}, '{"message":"Resource not accessible"}'),
     Verdict.OK, None),
    (GitHubRules(), FakeResponse(502), Verdict.SERVER_ERROR, None),
    (GitHubRules(), FakeResponse(304), Verdict.NOT_MODIFIED, None),
    (GitLabRules(), FakeResponse(429, {"ratelimit-reset": "1060"}), Verdict.SLOW_DOWN, 60),
    (GitLabRules(), FakeResponse(429, {"retry-after": "5", "ratelimit-remaining": "0"}), Verdict.SLOW_DOWN, 5),
    (GiteeRules(), FakeResponse(403, {}, '{"message":"Forbidden"}'), Verdict.OK, None),
    (GiteeRules(), FakeResponse(403, {}, '{"message":"请求过于频繁"}'), Verdict.SLOW_DOWN, None),
    (GiteeRules("gitcode"), FakeResponse(429), Verdict.SLOW_DOWN, None),
    (GiteeRules(), FakeResponse(401), Verdict.UNAUTHORISED, None),
])
def test_rate_limit_rules_per_platform(rules, response, verdict, wait):
    decision = rules.decide(response, now=1000)
    assert decision.verdict is verdict and decision.wait == wait


def test_pool_prefers_most_remaining_and_reports_earliest_reset():
    now = [1000.0]
    pool = TokenPool("github", [("A", "tok-aa"), ("B", "tok-bb"), ("C", "tok-cc")], clock=lambda: now[0])
    a, b, c = pool.credentials
    pool.observe(a, 10, 5000, 2000)
    pool.observe(b, 400, 5000, 2500)
    pool.observe(c, 0, 5000, 1500)
    assert pool.pick() is b
    pool.mark_spent(b, 2500)
    assert pool.pick() is a
    pool.mark_spent(a, 2000)
    assert pool.pick() == 1500
    now[0] = 1600
    assert pool.pick() is c
    assert "tok-" not in repr(pool.credentials) + str(a) and "$A" in repr(a)


def test_server_errors_retry_with_growing_jittered_backoff():
    sleeps = []
    answers = iter([FakeResponse(502), FakeResponse(503), FakeResponse(500), FakeResponse(200, {}, "[]")])
    settings = HttpSettings(sleep=sleeps.append, clock=lambda: 0.0, jitter=lambda: 1.0, backoff_base=2.0)
    transport = Transport(GitHubRules(), TokenPool("github", [("T", "t")]), settings)
    stats = RequestStats()
    response = transport.request(lambda credential: next(answers), stats)
    assert response.status == 200
    assert sleeps == [2.0, 4.0, 8.0]
    assert (stats.requests, stats.retries) == (4, 3)


def test_link_header_and_url_redaction():
    links = parse_link_header('<http://h/x?page=2>; rel="next", <http://h/x?page=9>; rel="last"')
    assert links == {"next": "http://h/x?page=2", "last": "http://h/x?page=9"}
    assert redact_url("http://h/api/v5/repos/a/b?access_token=SECRET&page=2") == \
        "http://h/api/v5/repos/a/b?access_token=***&page=2"
