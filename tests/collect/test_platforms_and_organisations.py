"""`mtx collect` across GitHub, Gitee, GitCode and GitLab: exact counts, a mirror counted once per community,
a subgroup project, and an organisation entry whose repository list changes between runs."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from sqlalchemy import text

from tests.collect.conftest import aggregates, mtx_env, run_mtx
from tests.emulator import World, generate_repo, running_emulator
from tracker import db as dbm

pytestmark = pytest.mark.postgres

PREFIX = {"github": "", "gitee": "/api/v5", "gitcode": "/gitcode/api/v5", "gitlab": "/api/v4"}
TOKENS = {"github": ("MTX_T_GH", "ghp_PLATFORMSsecretPLATFORMSsecret000001"),
          "gitee": ("MTX_T_GITEE", "gitee_PLATFORMSsecretPLATFORMS000002"),
          "gitcode": ("MTX_T_GITCODE", "gitcode_PLATFORMSsecretPLATFORMS03"),
          "gitlab": ("MTX_T_GITLAB", "glpat-PLATFORMSsecretPLATFORMS0004")}
START = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def build_world() -> World:
    world = World()
    generate_repo(world, "openharmony/docs", commits=300, seed=7, issues=10, pulls=10, releases=3, merge_every=6,
                  start=START, step=dt.timedelta(hours=1))
    generate_repo(world, "group/sub/deep/project", commits=150, seed=8, issues=6, pulls=5, releases=2,
                  only_on=("gitlab",), start=START)
    for seed, name in enumerate(("xmen", "xmen-docs", "xmen-tools")):
        generate_repo(world, f"easyxmen/{name}", commits=20 + seed, seed=20 + seed, start=START, only_on=("gitcode",))
    return world


@pytest.fixture
def emulator():
    with running_emulator(build_world()) as emu:
        for _, value in TOKENS.values():
            emu.add_token(value)
        yield emu


def write_config(directory, url):
    directory.mkdir(parents=True, exist_ok=True)
    mirror = [{"platform": p, "api_url": url + PREFIX[p], "path": "openharmony/docs"}
              for p in ("github", "gitee", "gitcode")]
    (directory / "communities.yaml").write_text(yaml.safe_dump({
        "platforms": {p: {"api_url": url + PREFIX[p], "token_env": [TOKENS[p][0]]} for p in PREFIX},
        "collection": {"concurrency": 3, "max_retries": 2},
        "communities": [
            {"slug": "openharmony", "name": "开源鸿蒙（测试）", "focus": "smart-terminal", "repositories": mirror},
            {"slug": "gitlab-group", "name": "子群组（测试）", "repositories": [
                {"platform": "gitlab", "api_url": url + PREFIX["gitlab"], "path": "group/sub/deep/project"}]},
            {"slug": "easyxmen", "name": "开源小满（测试）", "focus": "automotive", "organisations": [
                {"platform": "gitcode", "api_url": url + PREFIX["gitcode"], "path": "easyxmen",
                 "exclude": ["*-tools"]}]},
        ]}, allow_unicode=True), encoding="utf-8")
    return directory


def collect(db_url, config_dir):
    env = {name: value for name, value in TOKENS.values()}
    result = run_mtx(db_url, config_dir, "collect", extra_env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    for _, value in TOKENS.values():
        assert value not in result.stdout + result.stderr
    return result


def per_repo(db_url):
    with dbm.get_engine(db_url).connect() as conn:
        return {(p, path): n for p, path, n in conn.execute(text(
            "SELECT r.platform, r.path, COUNT(c.id) FROM repositories r LEFT JOIN commits c "
            "ON c.repository_id = r.id GROUP BY r.platform, r.path"))}


def test_every_platform_mirror_subgroup_and_organisation(db_url, tmp_path, emulator):
    config_dir = write_config(tmp_path / "config", emulator.url)
    collect(db_url, config_dir)
    assert per_repo(db_url) == {
        ("github", "openharmony/docs"): 300, ("gitee", "openharmony/docs"): 300, ("gitcode", "openharmony/docs"): 300,
        ("gitlab", "group/sub/deep/project"): 150,
        ("gitcode", "easyxmen/xmen"): 20, ("gitcode", "easyxmen/xmen-docs"): 21,
    }
    communities = {r["slug"]: r for r in json.loads(
        run_mtx(db_url, config_dir, "status", "--communities", "--json").stdout)}
    with dbm.get_engine(db_url).connect() as conn:  # what every figure counts: no merges, no bots, a sha once
        counted = conn.execute(text(
            "SELECT COUNT(DISTINCT c.sha), COUNT(*) FROM commits c JOIN repositories r ON r.id = c.repository_id "
            "JOIN commit_identities i ON i.id = c.author_identity_id LEFT JOIN people p ON p.id = i.person_id "
            "WHERE r.path = 'openharmony/docs' AND NOT c.is_merge AND NOT COALESCE(p.is_bot, i.is_bot)")).one()
    assert 0 < counted[0] < 300 and counted[1] == 3 * counted[0]  # the model has merges and bots; three mirrors
    assert communities["openharmony"]["commits"] == counted[0]  # every sha counted once
    assert communities["openharmony"]["repositories"] == 3
    assert communities["openharmony"]["releases"] == 2  # 3 in the model, the last a draft (not a release)
    with dbm.get_engine(db_url).connect() as conn:
        shas = conn.execute(text("SELECT COUNT(DISTINCT sha), COUNT(*) FROM commits c JOIN repositories r "
                                 "ON r.id = c.repository_id WHERE r.path = 'openharmony/docs'")).one()
        assert tuple(shas) == (300, 900)
        issues = dict(conn.execute(text("SELECT r.platform, COUNT(i.id) FROM issues i JOIN repositories r "
                                        "ON r.id = i.repository_id WHERE r.path = 'openharmony/docs' "
                                        "GROUP BY r.platform")).all())
        assert issues == {"github": 10, "gitee": 10, "gitcode": 10}

    # the organisation changes: one repository leaves, one arrives
    world = emulator.world
    world.delete_repo(world.repo_by_name("easyxmen/xmen-docs"))
    generate_repo(world, "easyxmen/xmen-bsp", commits=7, seed=40, start=START, only_on=("gitcode",))
    collect(db_url, config_dir)
    with dbm.get_engine(db_url).connect() as conn:
        rows = {path: (missing is not None, n) for path, missing, n in conn.execute(text(
            "SELECT r.path, r.missing_since, COUNT(c.id) FROM repositories r LEFT JOIN commits c "
            "ON c.repository_id = r.id WHERE r.path LIKE 'easyxmen/%' GROUP BY r.path, r.missing_since"))}
        assert rows == {"easyxmen/xmen": (False, 20), "easyxmen/xmen-docs": (True, 21),
                        "easyxmen/xmen-bsp": (False, 7)}
        audit = [a for (a,) in conn.execute(text("SELECT action FROM audit_log WHERE action LIKE 'repository.%' "
                                                  "ORDER BY id"))]
        assert audit.count("repository.vanished") == 1 and audit.count("repository.add") == 7
    status = json.loads(run_mtx(db_url, config_dir, "status", "--communities", "--community", "easyxmen",
                                "--json").stdout)
    assert status[0]["commits"] == 48  # history of the vanished repository stays with the community


def test_no_token_text_in_any_database_row(db_url, tmp_path, emulator):
    config_dir = write_config(tmp_path / "config", emulator.url)
    collect(db_url, config_dir)
    collect(db_url, config_dir)  # bookmarks with validators and resume links exist now
    engine = dbm.get_engine(db_url)
    from sqlalchemy import inspect

    rows = 0
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                rows += 1
                flat = " ".join(str(v) for v in row)
                for _, value in TOKENS.values():
                    assert value not in flat, table
                assert "access_token=" not in flat, table
    assert rows > 1000


def test_the_job_keeps_the_aggregates_equal_to_a_rebuild(db_url, tmp_path, emulator):
    """Three mirrors collected three at a time (concurrency 3): every page adds its new shas to the aggregates in its
    own transaction, and people resolution refreshes them; the result is what a rebuild from the commits gives."""
    config_dir = write_config(tmp_path / "config", emulator.url)
    collect(db_url, config_dir)
    collected = aggregates(db_url)
    assert collected["activity_days"] and collected["activity_months"]
    with dbm.get_engine(db_url).connect() as conn:
        streams = conn.execute(text("SELECT COUNT(*) FROM collection_streams WHERE last_status = 'ok' "
                                    "AND last_success_at IS NOT NULL")).scalar()
        repositories = conn.execute(text("SELECT COUNT(*) FROM repositories")).scalar()
    assert streams == 6 * repositories  # every stream of every repository read to its end, and recorded
    result = run_mtx(db_url, config_dir, "metrics", "--rebuild", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert aggregates(db_url) == collected
    signals = {e["community"]: e["signals"] for e in json.loads(result.stdout)}
    with dbm.get_engine(db_url).connect() as conn:  # the mirrors' commits once, as written in the commit table
        once = conn.execute(text(
            "SELECT COUNT(DISTINCT c.sha) FROM commits c JOIN repositories r ON r.id = c.repository_id "
            "JOIN commit_identities i ON i.id = c.author_identity_id LEFT JOIN people p ON p.id = i.person_id "
            "WHERE r.path = 'openharmony/docs' AND NOT c.is_merge AND NOT COALESCE(p.is_bot, i.is_bot) "
            "AND c.author_time >= :since"), {"since": dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=364)}).scalar()
    assert signals["openharmony"]["commit_frequency"]["value"] * 365 / 7 == pytest.approx(once)
