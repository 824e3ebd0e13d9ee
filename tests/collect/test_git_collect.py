"""`mtx collect` on `platform: git` repositories: real local repositories built by the test, stored rows compared
exactly with git's own answer (other placeholders, another parser); incremental runs, a force-push, a renamed
default branch, a broken mirror, a clone that fails."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from tests.collect.conftest import run_mtx
from tests.collector.git_builder import History, Person, expected_commits, expected_tags, generate, git
from tracker import db as dbm

pytestmark = pytest.mark.postgres
UTC = dt.timezone.utc


def write_git_config(directory: Path, urls: list[str], collection: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "communities.yaml").write_text(yaml.safe_dump({
        "collection": collection or {"concurrency": 2},
        "communities": [{"slug": "cq-git", "name": "重庆开源", "focus": "other",
                         "repositories": [{"platform": "git", "url": u} for u in urls]}],
    }, allow_unicode=True), encoding="utf-8")
    return directory


def stored_commits(db_url: str, path: str, *, present: bool = True) -> dict[str, tuple]:
    with dbm.session_scope(db_url) as s:
        rows = s.execute(text(
            "SELECT c.sha, c.author_name, c.author_email, c.author_time, c.committer_name, c.committer_email, "
            "c.committer_time, c.is_merge, c.message_title FROM commits c JOIN repositories r "
            "ON r.id = c.repository_id WHERE r.path = :p AND (c.missing_since IS NULL) = :present"),
            {"p": path, "present": present}).all()
    return {r[0]: (r[1], r[2], _utc(r[3]), r[4], r[5], _utc(r[6]), bool(r[7]), r[8]) for r in rows}


def _utc(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stored_tags(db_url: str, path: str) -> dict[str, dt.datetime]:
    with dbm.session_scope(db_url) as s:
        rows = s.execute(text("SELECT x.tag, x.published_at FROM releases x JOIN repositories r "
                              "ON r.id = x.repository_id WHERE r.path = :p AND x.missing_since IS NULL"),
                         {"p": path}).all()
    return {tag: _utc(when) for tag, when in rows}


@pytest.fixture
def source(tmp_path) -> History:
    """Authors with non-ASCII names, four offsets (+08:00, -05:00, +05:45, UTC) and two extreme ones, merges,
    a multi-line first paragraph, annotated and lightweight tags."""
    history = History(tmp_path / "src" / "kernel")
    shas = generate(history, 30, merge_every=7)
    far_east = dt.timezone(dt.timedelta(hours=14))
    far_west = dt.timezone(dt.timedelta(hours=-12))
    shas.append(history.commit("first line\nsecond line of the first paragraph\n\nbody", Person("Zoë", "zoe@x.org"),
                               dt.datetime(2024, 2, 29, 23, 30, tzinfo=far_east),
                               committer=Person("CI 机器人", "ci-bot@example.cn"),
                               committed=dt.datetime(2024, 2, 28, 1, 0, tzinfo=far_west)))
    history.tag("v0.1", shas[4])
    history.tag("v1.0", shas[20], tagger=Person("Release 管理", "rel@example.cn"),
                when=dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), message="一点零\n\nnotes")
    return history


def key(url: str) -> str:
    return url.removesuffix(".git").rstrip("/")


def test_git_repository_is_collected_exactly_as_git_log_says(db_url, tmp_path, source):
    config = write_git_config(tmp_path / "config", [source.url + "/.git/"])  # spelt with /.git/: one natural key
    cache = tmp_path / "mirrors"
    result = run_mtx(db_url, config, "collect", "--git-cache", str(cache))
    assert result.returncode == 0, result.stdout + result.stderr
    path = key(source.url)
    truth = expected_commits(source.path)
    assert len(truth) == 35 and sum(1 for v in truth.values() if v[6]) == 4
    assert stored_commits(db_url, path) == truth
    assert stored_tags(db_url, path) == expected_tags(source.path)
    with dbm.session_scope(db_url) as s:
        repo = s.execute(text("SELECT platform, api_url, state, default_branch FROM repositories")).one()
        names = dict(s.execute(text("SELECT tag, name FROM releases")).all())
    assert tuple(repo) == ("git", "", "active", "main")
    assert names == {"v0.1": None, "v1.0": "一点零"}
    line = next(l for l in result.stdout.splitlines() if path in l)
    assert ": ok" in line and "commits=35" in line and "releases=2" in line
    assert "not served by git: contributors issues pulls" in line
    mirrors = [p for p in cache.iterdir() if p.suffix == ".git"]
    assert len(mirrors) == 1 and git(mirrors[0], "config", "remote.origin.partialclonefilter").strip() == "blob:none"
    status = json.loads(run_mtx(db_url, config, "status", "--json").stdout)
    assert [(r["platform"], r["path"], r["commits"], r["releases"], r["issues"]) for r in status] == [
        ("git", path, 35, 2, None)]
    again = run_mtx(db_url, config, "collect", "--git-cache", str(cache))  # nothing new: nothing stored again
    assert again.returncode == 0, again.stderr
    line = next(l for l in again.stdout.splitlines() if path in l)
    assert "commits=" not in line and stored_commits(db_url, path) == truth


def test_incremental_runs_a_force_push_and_a_renamed_default_branch(db_url, tmp_path, source):
    config = write_git_config(tmp_path / "config", [source.url])
    cache = ["--git-cache", str(tmp_path / "mirrors")]
    path = key(source.url)
    assert run_mtx(db_url, config, "collect", *cache).returncode == 0
    who = Person("新人", "new@example.cn")
    later = dt.datetime(2024, 4, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for i in range(3):
        source.commit(f"new {i}", who, later + dt.timedelta(hours=i))
    result = run_mtx(db_url, config, "collect", *cache)
    assert result.returncode == 0, result.stderr
    assert "commits=3 " in next(l for l in result.stdout.splitlines() if path in l)  # old..new only
    assert stored_commits(db_url, path) == expected_commits(source.path)

    # force-push: the branch goes back 5 commits and grows another way; the dropped commits vanish
    before = set(expected_commits(source.path))
    source.reset(git(source.path, "rev-parse", "HEAD~5").strip())
    for i in range(2):
        source.commit(f"rewritten {i}", who, later + dt.timedelta(days=1, hours=i))
    now = expected_commits(source.path)
    vanished = before - set(now)
    assert len(vanished) == 5
    result = run_mtx(db_url, config, "collect", *cache)
    assert result.returncode == 0, result.stderr
    assert stored_commits(db_url, path) == now
    assert set(stored_commits(db_url, path, present=False)) == vanished  # kept, marked missing_since

    # the default branch renamed on the server, then a commit on it
    source.rename_branch("trunk")
    source.commit("on trunk", who, later + dt.timedelta(days=2))
    result = run_mtx(db_url, config, "collect", *cache)
    assert result.returncode == 0, result.stderr
    assert "commits=1 " in next(l for l in result.stdout.splitlines() if path in l)
    assert stored_commits(db_url, path) == expected_commits(source.path)
    with dbm.session_scope(db_url) as s:
        assert s.scalar(text("SELECT default_branch FROM repositories")) == "trunk"

    # a tag deleted on the server is marked missing; --full agrees with the incremental runs
    git(source.path, "tag", "-d", "v0.1")
    assert run_mtx(db_url, config, "collect", *cache).returncode == 0
    assert stored_tags(db_url, path) == expected_tags(source.path)
    full = run_mtx(db_url, config, "collect", "--full", *cache)
    assert full.returncode == 0, full.stderr
    assert stored_commits(db_url, path) == expected_commits(source.path)


def test_a_broken_or_half_written_mirror_is_cloned_again(db_url, tmp_path, source):
    config = write_git_config(tmp_path / "config", [source.url])
    mirrors = tmp_path / "mirrors"
    assert run_mtx(db_url, config, "collect", "--git-cache", str(mirrors)).returncode == 0
    mirror = next(p for p in mirrors.iterdir() if p.suffix == ".git")
    # a clone killed half-way leaves its temporary directory; a fetch killed half-way leaves lock files
    partial = mirrors / f".partial-{mirror.name}-99999-deadbeef"
    shutil.copytree(mirror, partial)
    (mirror / "packed-refs.lock").write_text("")
    source.commit("after the kill", Person("A", "a@x.cn"), dt.datetime(2025, 1, 1, tzinfo=UTC))
    result = run_mtx(db_url, config, "collect", "--git-cache", str(mirrors))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not partial.exists() and not (mirror / "packed-refs.lock").exists()
    path = key(source.url)
    assert stored_commits(db_url, path) == expected_commits(source.path)
    # now the mirror itself is broken: HEAD garbage, objects gone
    (mirror / "HEAD").write_text("garbage\n")
    shutil.rmtree(mirror / "objects")
    source.commit("after the damage", Person("A", "a@x.cn"), dt.datetime(2025, 1, 2, tzinfo=UTC))
    result = run_mtx(db_url, config, "collect", "--git-cache", str(mirrors))
    assert result.returncode == 0, result.stdout + result.stderr
    assert stored_commits(db_url, path) == expected_commits(source.path)
    assert git(mirror, "rev-parse", "HEAD").strip() == source.tip()


def test_a_clone_that_fails_is_that_repositorys_failure(db_url, tmp_path, source):
    missing = f"file://{tmp_path}/no/such/repository"
    config = write_git_config(tmp_path / "config", [missing, source.url])
    result = run_mtx(db_url, config, "collect", "--git-cache", str(tmp_path / "mirrors"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    failed = next(l for l in lines if missing in l)
    assert ": failed" in failed and "git clone failed" in failed
    assert ": ok" in next(l for l in lines if key(source.url) in l and missing not in l)
    assert stored_commits(db_url, key(source.url)) == expected_commits(source.path)
    with dbm.session_scope(db_url) as s:
        assert s.scalar(text("SELECT status FROM collection_runs")) == "partial"
    only = run_mtx(db_url, config, "collect", "--repo", source.url + ".git", "--git-cache", str(tmp_path / "mirrors"))
    assert only.returncode == 0, only.stdout + only.stderr  # any spelling of the clone URL names the repository
    assert missing not in only.stdout and key(source.url) in only.stdout


def test_config_check_names_a_bad_git_entry(tmp_path):
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "communities.yaml").write_text(
        "communities:\n  - slug: a\n    name: 甲\n    repositories:\n"
        "      - {platform: git, url: \"ftp://host/x\"}\n"
        "      - {platform: git, path: a/b}\n"
        "      - {platform: git, url: \"https://user:ghp_SECRETxyz12345@git.example.cn/a/b.git\"}\n"
        "      - {platform: git, url: \"ssh://git@git.example.cn:2222/a/b.git\"}\n"
        "      - {platform: git, url: \"git@git.example.cn:a/c.git\"}\n", encoding="utf-8")
    result = run_mtx("sqlite:///" + str(tmp_path / "x.db"), directory, "config", "check")
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "scheme 'ftp' is not allowed" in out and "needs url: CLONE_URL" in out
    assert "carries a user name or password" in out and "ghp_SECRET" not in out
    assert out.count("communities.yaml") >= 3 and "repositories.3" not in out and "repositories.4" not in out
