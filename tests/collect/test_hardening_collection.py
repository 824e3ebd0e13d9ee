"""Hardening, part 1 (issue 12): `mtx collect` against the emulator staged as a hostile server.

Each test names the promise of docs/security.md it proves. Every one is bounded: faults are injected a limited
number of times, waits use the emulator's fake clock, real time is capped by the subprocess timeout.
"""
from __future__ import annotations

import email.utils
import time

import pytest

from tests.collect.conftest import run_mtx
from tests.collect.hardening import (BIG, BIG_COMMITS, PREFIX, SMALL, TOKENS, build_world, commits_of, commits_path,
                                     in_process_job, list_path, results, rows, runs, token_env, write_config)
from tests.emulator import FakeClock, World, running_emulator

NOW = 1_750_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def emulator(clock):
    with running_emulator(build_world(), clock=clock.now) as emu:
        for _, value in TOKENS.values():
            emu.add_token(value)
        yield emu


@pytest.fixture
def elsewhere():
    """Another origin (same host, other port): credentials must never reach it."""
    with running_emulator(World()) as emu:
        yield emu


def collect(db_url, config_dir, *args, timeout: float = 60):
    result = run_mtx(db_url, config_dir, "collect", *args, extra_env=token_env(), timeout=timeout)
    output = result.stdout + result.stderr
    for _, value in TOKENS.values():
        assert value not in output
    return result, output


def requests_to(emulator, path: str) -> list:
    return [e for e in emulator.log if e.path == path]


# -- 1. credentials go only to their own host --------------------------------------------------------------------
@pytest.mark.parametrize("platform, status", [("gitlab", 302), ("gitlab", 307), ("github", 302), ("github", 301),
                                              ("gitee", 302), ("gitcode", 307)])
def test_hardening_redirect_to_another_host_is_an_error_and_gets_no_token(db_url, tmp_path, emulator, elsewhere,
                                                                          platform, status):
    config_dir = write_config(tmp_path / "config", emulator.url, [(platform, SMALL)])
    emulator.inject("redirect", path=commits_path(platform, SMALL) + "$", status=status, location=elsewhere.url,
                    times=5)
    result, output = collect(db_url, config_dir)
    assert result.returncode == 1, output
    assert elsewhere.log == []  # not followed at all: no token, no request reached the other origin
    target = f"redirect to {elsewhere.url}{commits_path(platform, SMALL)}"
    assert target in output and "refused" in output
    assert commits_of(db_url, platform, SMALL) == 0  # the other host's answer is never data
    [(_, _, stored, error, _)] = results(db_url)
    assert stored == "failed" and target in error


# -- 2. pagination always ends -----------------------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_hardening_next_link_back_to_a_fetched_page_fails_the_stream(db_url, tmp_path, emulator, platform):
    config_dir = write_config(tmp_path / "config", emulator.url, [(platform, BIG), (platform, SMALL)])
    first = f"{emulator.url}{commits_path(platform, BIG)}?per_page=100"
    emulator.inject("headers", path=commits_path(platform, BIG) + "$", skip=1, times=200,
                    headers={"link": f'<{first}>; rel="next"', "x-next-page": None})
    result, output = collect(db_url, config_dir)
    assert result.returncode == 1, output
    assert f"pagination loop at {first}" in output
    assert len(requests_to(emulator, commits_path(platform, BIG))) == 2  # page 1, page 2 -> "page 1": stop
    assert commits_of(db_url, platform, SMALL) == 40  # the other repository is collected as usual
    statuses = {path: status for _, path, status, _, _ in results(db_url)}
    assert statuses == {BIG: "failed", SMALL: "ok"}


def test_hardening_next_page_with_invalid_per_page_fails_the_stream(db_url, tmp_path, emulator):
    config_dir = write_config(tmp_path / "config", emulator.url, [("github", BIG)])
    bad = f"{emulator.url}{commits_path('github', BIG)}?per_page=-5&page=2"
    emulator.inject("headers", path=commits_path("github", BIG) + "$", times=300,
                    headers={"link": f'<{bad}>; rel="next"'})
    result, output = collect(db_url, config_dir)
    assert result.returncode == 1, output
    assert f"pagination loop at {bad}: invalid per_page='-5'" in output
    assert len(requests_to(emulator, commits_path("github", BIG))) == 1


@pytest.mark.parametrize("platform", ["gitee", "gitcode"])
def test_hardening_total_page_of_a_billion_ends_at_the_first_empty_page(db_url, tmp_path, emulator, platform):
    config_dir = write_config(tmp_path / "config", emulator.url, [(platform, SMALL)])
    emulator.inject("headers", path=commits_path(platform, SMALL) + "$", times=300,
                    headers={"total_page": "1000000000", "link": None})
    result, output = collect(db_url, config_dir)
    assert result.returncode == 0, output
    assert commits_of(db_url, platform, SMALL) == 40
    pages = [e.query.get("page", ["1"])[0] for e in requests_to(emulator, commits_path(platform, SMALL))]
    assert pages == ["1", "2"]  # 40 commits on page 1, page 2 empty: the list has ended


def test_hardening_page_cap_stops_the_stream_as_partial_and_the_next_run_resumes(db_url, tmp_path, emulator):
    config_dir = write_config(tmp_path / "config", emulator.url, [("github", BIG)],
                              collection={"max_pages_per_stream": 2})
    result, output = collect(db_url, config_dir)
    assert result.returncode == 0, output
    line = next(line for line in output.splitlines() if BIG in line)
    assert " partial " in line and "stream commits stopped after 2 pages (collection.max_pages_per_stream)" in line
    assert "采集结束 / run 1 partial" in output
    assert rows(db_url, "SELECT status FROM collection_results") == [("partial",)]  # stored as it is, not "deadline"
    assert commits_of(db_url, "github", BIG) == 200
    [(pending,)] = rows(db_url, "SELECT b.cursor FROM collection_bookmarks b WHERE b.stream = 'commits'")
    assert "page=3" in (pending if isinstance(pending, str) else str(pending))  # the bookmark resumes at page 3
    emulator.clear_log()
    collect(db_url, config_dir)
    pages = [e.query.get("page", ["1"])[0] for e in requests_to(emulator, commits_path("github", BIG))]
    assert pages[:2] == ["3", "4"] and commits_of(db_url, "github", BIG) == 400
    collect(db_url, config_dir)  # page 5 ends the pass (its settle pass counts as a page too)
    assert commits_of(db_url, "github", BIG) == BIG_COMMITS
    assert [status for status, _, _ in runs(db_url)][:2] == ["partial", "partial"]


# -- 3. rate-limit waits are bounded -----------------------------------------------------------------------------
SPENT = {"message": "API rate limit exceeded for user ID 1."}


@pytest.mark.parametrize("case", ["github-reset-in-the-past", "github-no-reset", "gitlab-reset-in-the-past"])
@pytest.mark.parametrize("max_wait, sleeps", [(3600, [60, 120, 240, 480, 960]), (200, [60, 120, 200, 200, 200])])
def test_hardening_rate_limit_without_a_usable_reset_backs_off_then_fails_the_repository(
        db_url, tmp_path, emulator, clock, case, max_wait, sleeps):
    platform = case.split("-")[0]
    config_dir = write_config(tmp_path / "config", emulator.url, [(platform, SMALL), (platform, BIG)])
    past = str(int(NOW - 100))
    if platform == "github":
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": past if "past" in case else None}
        emulator.inject("reply", path=commits_path(platform, SMALL) + "$", status=403, body=SPENT, headers=headers,
                        times=100)
    else:
        emulator.inject("reply", path=commits_path(platform, SMALL) + "$", status=429, times=100,
                        body={"message": "429 Too Many Requests"},
                        headers={"ratelimit-remaining": "0", "ratelimit-reset": past, "retry-after": None})
    summary = in_process_job(db_url, config_dir, clock, max_wait=max_wait).run()
    assert clock.sleeps == sleeps
    assert len(requests_to(emulator, commits_path(platform, SMALL))) == 6  # the first try and 5 after waiting
    outcomes = {o.path: o for o in summary.outcomes}
    assert outcomes[SMALL].status == "failed" and "rate limit did not reset" in outcomes[SMALL].error
    assert outcomes[BIG].status == "ok" and commits_of(db_url, platform, BIG) == BIG_COMMITS
    assert outcomes[SMALL].wait_seconds == sum(sleeps)
    assert [status for status, closed, _ in runs(db_url) if closed] == ["partial"]


# -- 4. every request has a whole-request deadline ------------------------------------------------------------------
def test_hardening_a_trickling_body_is_cut_at_the_request_deadline(db_url, tmp_path, emulator):
    platforms = ["github", "gitlab", "gitee", "gitcode"]
    config_dir = write_config(tmp_path / "config", emulator.url, [(p, SMALL) for p in platforms],
                              collection={"concurrency": 4, "timeout_seconds": 5, "request_deadline_seconds": 0.8,
                                          "max_retries": 1})
    for platform in platforms:  # the repository answer: one byte every 0.25 s (minutes in all), never a read timeout
        emulator.inject("trickle", path=f"^{list_path(platform, SMALL)}$", seconds=0.25, times=10)
    began = time.monotonic()
    result, output = collect(db_url, config_dir, timeout=90)
    elapsed = time.monotonic() - began
    assert result.returncode == 1, output
    assert elapsed < 60  # two attempts of 0.8 s per repository, four at once (plus start-up on a busy machine);
    # without a deadline each ~2 KB answer takes about 500 s
    for platform in platforms:
        assert len(requests_to(emulator, list_path(platform, SMALL))) == 2, platform  # first try + 1 retry
        line = next(line for line in output.splitlines() if line.startswith(f"{platform} {SMALL}:"))
        assert "failed" in line and "no complete answer within the request deadline of 0.8 s" in line
    assert [status for status, closed, _ in runs(db_url) if closed] == ["failed"]


# -- 5. bad rate-limit headers never crash a run ------------------------------------------------------------------
def http_date(epoch: float) -> str:
    return email.utils.formatdate(epoch, usegmt=True)


@pytest.mark.postgres
@pytest.mark.parametrize("platform, retry_after", [
    ("gitlab", "nan"), ("gitlab", "inf"), ("gitlab", "-5"), ("gitlab", http_date(NOW - 3600)),
    ("gitlab", "soon, maybe"), ("github", "nan"), ("gitcode", "inf")])
def test_hardening_bad_retry_after_falls_back_to_the_backoff_and_the_run_closes(db_url, tmp_path, emulator, clock,
                                                                               platform, retry_after):
    config_dir = write_config(tmp_path / "config", emulator.url, [(platform, SMALL)])
    status, body = (403, {"message": "You have exceeded a secondary rate limit."}) if platform == "github" else \
        (429, {"message": "Too Many Requests"})
    emulator.inject("reply", path=commits_path(platform, SMALL) + "$", status=status, body=body, times=2,
                    headers={"retry-after": retry_after, "ratelimit-reset": "nan", "x-ratelimit-reset": "-1"})
    summary = in_process_job(db_url, config_dir, clock).run()
    assert clock.sleeps == [60, 120]  # the bounded backoff, as if no Retry-After had been sent
    assert summary.status == "ok" and commits_of(db_url, platform, SMALL) == 40
    [(_, _, stored, error, wait_seconds)] = results(db_url)
    assert (stored, error, wait_seconds) == ("ok", None, 180.0)
    assert runs(db_url) == [("ok", True, None)]


@pytest.mark.postgres
def test_hardening_the_run_row_is_closed_whatever_fails(db_url, tmp_path, emulator, clock):
    config_dir = write_config(tmp_path / "config", emulator.url, [("github", SMALL)])

    def broken_reporter(outcome):
        raise RuntimeError("the output pipe broke")

    job = in_process_job(db_url, config_dir, clock)
    job.on_result = broken_reporter
    with pytest.raises(RuntimeError):
        job.run()
    [(status, closed, error)] = runs(db_url)
    assert (status, closed) == ("failed", True) and "the output pipe broke" in error


# -- 6. repository paths are checked before any request --------------------------------------------------------------
def test_hardening_config_check_refuses_bad_repository_paths_naming_the_line(tmp_path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    text = """\
platforms:
  gitlab: {api_url: "https://gitlab.example.com"}
communities:
- slug: acme
  name: 示例社区
  repositories:
  - https://github.com/../../../../etc/passwd
  - {platform: github, path: "acme/%2e%2e"}
  - {platform: gitlab, path: "group//project"}
  - {platform: gitee, path: "acme/name with space"}
  - https://github.com/acme/good
"""
    (config_dir / "communities.yaml").write_text(text, encoding="utf-8")
    lines = text.splitlines()
    line_of = {needle: next(i for i, line in enumerate(lines, 1) if needle in line)
               for needle in ("etc/passwd", "%2e%2e", "group//project", "name with space")}
    result = run_mtx("sqlite:///unused.db", config_dir, "config", "check")
    assert result.returncode == 1
    errors = result.stderr
    for needle, line in line_of.items():
        assert f"communities.yaml:{line}: 错误 error" in errors, (needle, errors)
    assert "'..' segments are not allowed" in errors
    assert "percent-encoded characters (%) are not allowed" in errors
    assert "empty segment" in errors
    assert "character ' ' is not allowed" in errors
    assert errors.count("错误 error") == 4  # the good repository and the GitLab server URL pass


def test_hardening_collector_refuses_a_bad_path_from_an_organisation_listing(db_url, tmp_path, emulator):
    config_dir = tmp_path / "config"
    write_config(config_dir, emulator.url, [("github", SMALL)])
    import yaml

    data = yaml.safe_load((config_dir / "communities.yaml").read_text(encoding="utf-8"))
    data["communities"][0]["organisations"] = [{"platform": "github", "api_url": emulator.url, "path": "hostile"}]
    (config_dir / "communities.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    listing = [{"full_name": "hostile/../../../../etc/passwd", "html_url": "http://x/hostile", "archived": False,
                "fork": False, "default_branch": "main"}]
    emulator.inject("reply", path="^/orgs/hostile/repos$", status=200, body=listing)
    result, output = collect(db_url, config_dir)
    assert result.returncode == 1, output
    assert "refusing repository path 'hostile/../../../../etc/passwd'" in output and "no request was sent" in output
    assert not [e for e in emulator.log if "etc" in e.path or e.path.startswith("/repos/hostile")]
    assert commits_of(db_url, "github", SMALL) == 40


def test_hardening_paths_are_normalised_before_matching(db_url, tmp_path, emulator):
    """Issue 14, item 7: a full-width or zero-width spelling is the same repository."""
    config_dir = write_config(tmp_path / "config", emulator.url, [("github", "ａｃｍｅ/ｓｍａｌｌ"),
                                                                   ("github", "acme/big\u200b")])
    result, output = collect(db_url, config_dir, "--repo", "acme/ｓｍａｌｌ")
    assert result.returncode == 0, output
    assert rows(db_url, "SELECT path FROM repositories ORDER BY path") == [(BIG,), (SMALL,)]
    assert commits_of(db_url, "github", SMALL) == 40 and commits_of(db_url, "github", BIG) == 0  # --repo matched
    twins = write_config(tmp_path / "twins", emulator.url, [("github", SMALL), ("github", "acme/ｓｍａｌｌ\ufeff")])
    check = run_mtx(db_url, twins, "config", "check", extra_env=token_env())
    assert check.returncode == 1 and "appears twice" in check.stderr


# -- 7. a GitLab api_url of http://host:port ---------------------------------------------------------------------
def test_hardening_gitlab_server_url_without_api_v4_is_accepted_and_normalised(db_url, tmp_path, emulator):
    platforms = {"gitlab": {"api_url": emulator.url, "token_env": [TOKENS["gitlab"][0]]}}
    config_dir = write_config(tmp_path / "config", emulator.url, [("gitlab", SMALL)], platforms=platforms)
    check = run_mtx(db_url, config_dir, "config", "check", extra_env=token_env())
    assert check.returncode == 0, check.stdout + check.stderr
    result, output = collect(db_url, config_dir)
    assert result.returncode == 0, output
    assert commits_of(db_url, "gitlab", SMALL) == 40
    assert rows(db_url, "SELECT api_url FROM repositories") == [(emulator.url + PREFIX["gitlab"],)]
    wrong = write_config(tmp_path / "wrong", emulator.url, [("gitlab", SMALL)],
                         platforms={"gitlab": {"api_url": emulator.url + "/api/v3"}})
    refused = run_mtx(db_url, wrong, "config", "check", extra_env=token_env())
    assert refused.returncode == 1 and "names another GitLab API version" in refused.stderr
