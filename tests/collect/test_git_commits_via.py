"""`commits_via: git` on a GitHub repository against the emulator, with a local clone of the same history: no
commit page is asked for, the other streams still come from the API, and the stored commits (sha set, author and
committer names, e-mails and times) equal those of the API-only collection."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from tests.collect.conftest import TOKEN, TOKEN_VAR, run_mtx
from tests.collector.git_builder import History, Person, generate, git
from tests.emulator import GitCommit, World, generate_repo, running_emulator
from tests.emulator import Person as EmulatedPerson
from tracker import db as dbm

pytestmark = pytest.mark.postgres
UTC = dt.timezone.utc
PATH = "acme/via"


def emulated_history(repo: Path) -> list[GitCommit]:
    """The repository's default branch as the emulator's GitHub will serve it (newest first)."""
    out = git(repo, "log", "--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x01")
    commits = []
    for record in out.split("\x01")[:-1]:
        sha, parents, an, ae, ai, cn, ce, ci, body = record.lstrip("\n").split("\x00")
        commits.append(GitCommit(sha=sha, message=body, author=EmulatedPerson(an, ae),
                                 authored_at=dt.datetime.fromisoformat(ai).astimezone(UTC),
                                 committer=EmulatedPerson(cn, ce),
                                 committed_at=dt.datetime.fromisoformat(ci).astimezone(UTC),
                                 parents=tuple(parents.split())))
    return commits


@pytest.fixture
def history(tmp_path) -> History:
    history = History(tmp_path / "clone" / "via")
    generate(history, 260, merge_every=11)  # more than two API pages of 100
    history.commit("a late one", Person("Late 迟到", "late@example.cn"),
                   dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-7))))
    return history


@pytest.fixture
def emulator(history):
    world = World()
    repo = generate_repo(world, PATH, commits=0, seed=5, issues=6, pulls=4, releases=2)
    repo.commits = emulated_history(history.path)
    repo.pushed_at = repo.commits[0].committed_at
    world.add_account("person-one", name="Person 1", email="p1@example1.cn")  # the API links this address
    with running_emulator(world) as emu:
        emu.add_token(TOKEN)
        yield emu


def write_config(directory: Path, api_url: str, entry: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "communities.yaml").write_text(yaml.safe_dump({
        "platforms": {"github": {"api_url": api_url, "token_env": [TOKEN_VAR]}},
        "communities": [{"slug": "acme", "name": "示例", "repositories": [entry]}]}), encoding="utf-8")
    return directory


def commits(db_url: str) -> dict[str, tuple]:
    with dbm.session_scope(db_url) as s:
        rows = s.execute(text("SELECT sha, author_name, author_email, author_time, committer_name, committer_email, "
                              "committer_time, is_merge, message_title FROM commits WHERE missing_since IS NULL"))
        return {r[0]: tuple(r[1:]) for r in rows}


def others(db_url: str) -> dict[str, list]:
    with dbm.session_scope(db_url) as s:
        return {t: sorted(tuple(r) for r in s.execute(text(q))) for t, q in {
            "issues": "SELECT number, title, state FROM issues", "pulls": "SELECT number, title FROM pull_requests",
            "releases": "SELECT tag, published_at FROM releases",
            "repo": "SELECT state, default_branch, licence FROM repositories"}.items()}


def test_commits_via_git_asks_for_no_commit_page_and_stores_the_same_commits(backend, db_url, tmp_path, pg_databases,
                                                                              emulator, history):
    api_only = write_config(tmp_path / "api", emulator.url, {"platform": "github", "path": PATH})
    via = write_config(tmp_path / "via", emulator.url, {"platform": "github", "path": PATH, "commits_via": "git",
                                                       "clone_url": history.url})
    if backend == "postgresql":
        reference_url = pg_databases.create(migrated=True)
    else:
        reference_url = f"sqlite:///{tmp_path / 'api.db'}"
        dbm.upgrade(reference_url)
    first = run_mtx(reference_url, api_only, "collect")
    assert first.returncode == 0, first.stdout + first.stderr
    asked = [r.path for r in emulator.log if r.path.endswith("/commits")]
    assert len(asked) >= 3  # the API-only run pays a page per 100 commits
    emulator.clear_log()

    second = run_mtx(db_url, via, "collect", "--git-cache", str(tmp_path / "mirrors"))
    assert second.returncode == 0, second.stdout + second.stderr
    paths = [r.path for r in emulator.log]
    assert not [p for p in paths if "/commits" in p], paths  # not one commit page
    assert any(p.endswith("/issues") for p in paths) and any(p.endswith("/releases") for p in paths)

    by_api, by_git = commits(reference_url), commits(db_url)
    assert len(by_git) == 261 + 23 and set(by_git) == set(by_api)
    for sha, api_row in by_api.items():
        assert by_git[sha][:6] == api_row[:6], sha  # author and committer name, e-mail, time
        assert by_git[sha][6:] == api_row[6:], sha  # merge flag and title too
    assert others(db_url) == others(reference_url)
    with dbm.session_scope(reference_url) as s:
        assert s.scalar(text("SELECT COUNT(*) FROM accounts WHERE key = 'login:person-one'")) == 1
    with dbm.session_scope(db_url) as s:  # a clone names e-mail addresses only (no logins)
        assert s.scalar(text("SELECT COUNT(*) FROM commits c JOIN accounts a ON a.id = c.author_account_id "
                             "WHERE a.key LIKE 'login:%'")) == 0
        assert s.scalar(text("SELECT COUNT(*) FROM accounts WHERE key = 'email:p1@example1.cn'")) == 1
    if backend == "postgresql":
        pg_databases.drop(reference_url)
    else:
        dbm.dispose_engine(reference_url)
