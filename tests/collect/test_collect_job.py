"""`mtx collect` against the emulator: stored rows equal the platform's data; re-runs are free; run records kept."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from collector import registry

from tests.collect.conftest import REPOS, TOKEN, canonical_data, run_mtx, write_config
from tracker import db as dbm
from tracker.models import CollectionResult, CollectionRun, Commit, Issue, PullRequest, Release

pytestmark = pytest.mark.postgres


def expected(emulator, path: str) -> dict[str, int]:
    """What the platform holds for a repository, counted from the emulator's model (drafts are not releases)."""
    repo = emulator.world.repo_by_name(path)
    return {"commits": len(repo.commits), "releases": sum(1 for r in repo.releases if not r.draft),
            "issues": sum(1 for i in repo.issues if not i.is_pull), "pulls": sum(1 for i in repo.issues if i.is_pull)}


def total(emulator, key: str) -> int:
    return sum(expected(emulator, p)[key] for p in REPOS)


def test_first_run_stores_every_record_and_the_run(db_url, config_dir, emulator):
    result = run_mtx(db_url, config_dir, "collect")
    assert result.returncode == 0, result.stderr
    with dbm.session_scope(db_url) as s:
        commits = dict(s.execute(text("SELECT r.path, COUNT(*) FROM commits c JOIN repositories r "
                                      "ON r.id = c.repository_id GROUP BY r.path")).all())
        assert commits == {"acme/big": 450, "acme/small": 40, "acme/unlinked": 70}
        assert {p: expected(emulator, p)["commits"] for p in commits} == commits
        states = dict(s.execute(text("SELECT path, state FROM repositories")).all())
        assert states["acme/empty"] == "empty" and states["acme/big"] == "active"
        assert s.scalar(select(func.count()).select_from(Release)) == total(emulator, "releases") == 4
        assert s.scalar(select(func.count()).select_from(Issue)) == total(emulator, "issues") == 35
        assert s.scalar(select(func.count()).select_from(PullRequest)) == total(emulator, "pulls") == 23
        # unlinked e-mails become e-mail-keyed accounts, linked ones login-keyed
        keys = [k for (k,) in s.execute(text("SELECT key FROM accounts"))]
        assert any(k.startswith("email:") for k in keys) and any(k.startswith("login:") for k in keys)
        run = s.scalar(select(CollectionRun))
        assert (run.status, run.actor) == ("ok", "cron") and run.finished_at is not None
        results = s.scalars(select(CollectionResult)).all()
        assert {r.status for r in results} == {"ok"} and len(results) == len(REPOS)
        big = next(r for r in results if r.items.get("commits") == 450)
        assert big.requests >= 5 and big.duration_seconds > 0
    lines = [l for l in result.stderr.splitlines() + result.stdout.splitlines() if "acme/big" in l]
    assert lines and "commits=450" in lines[0] and "requests=" in lines[0] and "304s=" in lines[0]
    assert TOKEN not in result.stdout + result.stderr


def test_second_run_over_unchanged_data_spends_no_quota(db_url, config_dir, emulator):
    assert run_mtx(db_url, config_dir, "collect").returncode == 0
    before = canonical_data(db_url)
    emulator.clear_log()
    again = run_mtx(db_url, config_dir, "collect")
    assert again.returncode == 0, again.stderr
    spent = [r for r in emulator.log if r.spent]
    assert spent == [], [(r.path, r.status) for r in spent]
    assert {r.status for r in emulator.log if r.path != "/rate_limit"} == {304}
    assert canonical_data(db_url) == before
    with dbm.session_scope(db_url) as s:
        last = s.scalars(select(CollectionResult).order_by(CollectionResult.id.desc()).limit(len(REPOS))).all()
        assert all(r.not_modified >= 1 for r in last)
        free_calls = sum(1 for r in emulator.log if r.path == "/rate_limit")
        assert sum(r.requests - r.not_modified for r in last) == free_calls


def test_status_json_has_the_documented_shape(db_url, config_dir, emulator, tmp_path):
    before = run_mtx(db_url, config_dir, "status", "--json")
    assert before.returncode == 0
    assert json.loads(before.stdout) == []  # nothing configured in the database before the first run
    assert run_mtx(db_url, config_dir, "collect").returncode == 0
    rows = json.loads(run_mtx(db_url, config_dir, "status", "--json").stdout)
    assert [r["path"] for r in rows] == sorted(REPOS)
    big = next(r for r in rows if r["path"] == "acme/big")
    assert set(big) == {"platform", "path", "state", "commits", "releases", "contributors", "issues", "pulls",
                        "last_run"}
    assert set(big["last_run"]) == {"status", "finished_at", "requests", "not_modified"}
    assert (big["platform"], big["state"]) == ("github", "active")
    assert {k: big[k] for k in ("commits", "releases", "issues", "pulls")} == expected(emulator, "acme/big")
    with dbm.session_scope(db_url) as s:
        distinct_authors = s.scalar(text(
            "SELECT COUNT(DISTINCT COALESCE('a' || CAST(author_account_id AS TEXT), 'e' || lower(author_email))) "
            "FROM commits c JOIN repositories r ON r.id = c.repository_id WHERE r.path = 'acme/big' AND NOT c.is_bot"))
    assert big["contributors"] == distinct_authors > 1
    assert big["last_run"]["status"] == "ok" and big["last_run"]["requests"] > 0


def test_one_failing_repository_is_recorded_and_the_others_go_on(db_url, config_dir, emulator):
    emulator.inject("status", path="/repos/acme/small", times=100, status=500)
    write_config(config_dir, emulator.url, collection={"concurrency": 2, "max_retries": 1})
    result = run_mtx(db_url, config_dir, "collect")
    assert result.returncode == 1
    with dbm.session_scope(db_url) as s:
        statuses = dict(s.execute(text("SELECT r.path, x.status FROM collection_results x JOIN repositories r "
                                       "ON r.id = x.repository_id")).all())
        assert statuses["acme/small"] == "failed" and statuses["acme/big"] == "ok"
        assert s.scalar(select(CollectionRun.status)) == "partial"
        assert s.scalar(select(func.count()).select_from(Commit)) == 520
    failed_line = next(line for line in result.stdout.splitlines() if "acme/small" in line)
    assert ": failed" in failed_line and "500" in failed_line
    assert "1 failed" in result.stderr


def test_status_json_on_the_sample_matches_the_stored_rows(sample_db_url, tmp_path):
    result = run_mtx(sample_db_url, tmp_path, "status", "--json", "--community", "yuche-os")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 5
    with dbm.session_scope(sample_db_url) as s:
        for row in rows:
            assert set(row) == {"platform", "path", "state", "commits", "releases", "contributors", "issues",
                                "pulls", "last_run"}
            repo_id = s.scalar(text("SELECT id FROM repositories WHERE platform = :p AND path = :path"),
                               {"p": row["platform"], "path": row["path"]})
            assert row["commits"] == s.scalar(text(f"SELECT COUNT(*) FROM commits WHERE repository_id = {repo_id}"))
            issues = s.scalar(text(f"SELECT COUNT(*) FROM issues WHERE repository_id = {repo_id}"))
            served = "issues" in registry.get(row["platform"]).streams
            assert row["issues"] == (issues if served else None)  # a plain git host has no issues: "—", not 0
            people = s.scalar(text(
                "SELECT COUNT(DISTINCT COALESCE(i.person_id, -i.id)) FROM commits c "
                "JOIN commit_identities i ON i.id = c.author_identity_id LEFT JOIN people p ON p.id = i.person_id "
                f"WHERE c.repository_id = {repo_id} AND NOT c.is_merge AND NOT COALESCE(p.is_bot, i.is_bot)"))
            assert row["contributors"] == people
            assert row["last_run"]["status"] == "ok" and row["last_run"]["finished_at"].startswith("2026-10-31")
    unknown = run_mtx(sample_db_url, tmp_path, "status", "--community", "no-such-community")
    assert unknown.returncode == 1 and "no-such-community" in unknown.stderr
