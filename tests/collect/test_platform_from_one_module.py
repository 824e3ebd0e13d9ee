"""A platform added by ONE module (tests/testforge.py), no other file edited: the registry, `mtx config check`, the
collection job (rows on SQLite and PostgreSQL, only the streams it declares) and the overview's labels all see it."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from collector import registry
from tests.collect.conftest import run_mtx
from tests import testforge
from tracker import db as dbm
from tracker.config import check_config

ROOT = Path(__file__).resolve().parents[2]
HOOK = {registry.ENV_MODULES: "tests.testforge", "PYTHONPATH": str(ROOT)}
TOKEN = "tf_ONEMODULEsecretONEMODULEsecret0001"
URL = "https://testforge.example/acme/widget"


def write_config(directory: Path, repositories: list) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "communities.yaml").write_text(yaml.safe_dump({
        "collection": {"concurrency": 1},
        "communities": [{"slug": "forge", "name": "锻炉社区", "repositories": repositories}]},
        allow_unicode=True), encoding="utf-8")
    return directory


@pytest.fixture
def hooked(monkeypatch):
    """The registration hook the registry documents, set for this process (the registry re-reads on change)."""
    monkeypatch.setenv(registry.ENV_MODULES, "tests.testforge")
    yield
    monkeypatch.delenv(registry.ENV_MODULES)
    registry.names()  # back to the built-in declarations for the next test in this worker


def test_without_the_module_the_platform_is_unknown(tmp_path, monkeypatch):
    monkeypatch.delenv(registry.ENV_MODULES, raising=False)
    assert "testforge" not in registry.names()
    directory = write_config(tmp_path / "config", [URL, {"platform": "testforge", "path": "acme/widget"}])
    config, problems = check_config(directory, env={})
    errors = {p.key: p.message for p in problems if p.severity == "error"}
    assert config is None
    assert "unknown host 'testforge.example'" in errors["communities[0].repositories[0]"]
    assert "unknown platform 'testforge'" in errors["communities[0].repositories[1].platform"]


def test_registry_and_config_check_see_the_declared_platform(tmp_path, hooked):
    assert registry.names() == ["git", "gitcode", "gitee", "github", "gitlab", "testforge"]
    declared = registry.get("testforge")
    assert (declared.label, declared.streams) == ("测试锻炉 / TestForge", ("repo", "commits", "releases", "contributors"))
    assert "testforge" in registry.platforms() and registry.parse_web_url(URL + "/tree/main") == ("testforge",
                                                                                                "acme/widget")
    directory = write_config(tmp_path / "config", [URL])
    config, problems = check_config(directory, env={})
    assert config is not None, [p.render() for p in problems]
    target = config.resolve_repository(URL)
    assert (target.platform, target.api_url, target.path) == ("testforge", "https://api.testforge.example/v1",
                                                              "acme/widget")
    assert [(p.severity, p.key) for p in problems] == [("warning", "platforms.testforge.token_env")]
    assert "TESTFORGE_TOKEN" in problems[0].message
    # its path rules are the shared ones: refused naming the line
    write_config(tmp_path / "config", ["https://testforge.example/acme/wid%67et"])
    config, problems = check_config(directory, env={testforge.TOKEN_VAR: "x"})
    line = next(n for n, x in enumerate((directory / "communities.yaml").read_text().splitlines(), 1) if "%67" in x)
    assert config is None and "percent-encoded" in problems[0].message and problems[0].line == line


@pytest.mark.postgres
def test_mtx_collect_writes_its_rows_and_asks_only_its_streams(db_url, tmp_path):
    directory = write_config(tmp_path / "config", [URL])
    env = HOOK | {testforge.TOKEN_VAR: TOKEN}
    result = run_mtx(db_url, directory, "collect", extra_env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert TOKEN not in out
    line = next(x for x in out.splitlines() if x.startswith("testforge acme/widget:"))
    assert "testforge acme/widget: ok repo=1 commits=3 releases=1 contributors=2 requests=4" in line
    assert "not served by testforge: issues pulls" in line
    with dbm.get_engine(db_url).connect() as conn:
        repos = conn.execute(text("SELECT platform, path, api_url, web_url, licence FROM repositories")).all()
        shas = conn.execute(text("SELECT sha, author_email, message_title FROM commits ORDER BY sha")).all()
        accounts = conn.execute(text("SELECT platform, key FROM accounts ORDER BY key")).all()
        releases = conn.execute(text("SELECT tag FROM releases")).scalars().all()
        work = conn.execute(text("SELECT (SELECT COUNT(*) FROM issues) + (SELECT COUNT(*) FROM pull_requests)")
                            ).scalar()
        streams = conn.execute(text("SELECT stream FROM collection_bookmarks ORDER BY stream")).scalars().all()
    dbm.dispose_engine(db_url)
    assert repos == [("testforge", "acme/widget", "https://api.testforge.example/v1", URL, "MulanPSL-2.0")]
    assert shas == [(c.sha, c.author_email, c.message_title) for c in testforge.COMMITS["acme/widget"]]
    assert accounts == [("testforge", "login:hanmm"), ("testforge", "login:lilei")]
    assert releases == ["v1.0"] and work == 0
    assert streams == ["commits", "contributors", "releases", "repo"]  # no issues/pulls bookmark: never asked

    status = run_mtx(db_url, directory, "status", extra_env=env)
    assert status.returncode == 0, status.stderr
    row = next(x for x in status.stdout.splitlines() if x.startswith("testforge"))
    assert row.split()[:9] == ["testforge", "acme/widget", "active", "3", "1", "2", "—", "—", "ok"]
    rows = json.loads(run_mtx(db_url, directory, "status", "--json", extra_env=env).stdout)
    assert (rows[0]["issues"], rows[0]["pulls"], rows[0]["commits"]) == (None, None, 3)


def test_overview_labels_it_as_declared(db_url, tmp_path, monkeypatch, hooked):
    from tracker.access import SYSTEM, Actor
    from tracker.collect.sync import get_or_add_repository
    from tracker.users import create_user

    with dbm.session_scope(db_url) as session:
        for path in ("acme/widget", "acme/gadget"):
            get_or_add_repository(session, "testforge", "https://api.testforge.example/v1", path, None,
                                  Actor("admin", "admin"))
        get_or_add_repository(session, "gitee", "https://gitee.com/api/v5", "acme/x", None, Actor("admin", "admin"))
        create_user(session, SYSTEM, "admin", "admin", "forge-admin-password")
    monkeypatch.setenv("MTX_DATABASE_URL", db_url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["actor"] = Actor("admin", "admin")
    at.run()
    assert not at.exception, at.exception
    chart = at.get("vega_lite_chart")[0].proto  # 各平台仓库数: its data, as the page handed it to Vega-Lite
    shown = pa.ipc.open_stream(chart.data.data).read_pandas()
    assert dict(zip(shown["平台"], shown["仓库数"])) == {"测试锻炉": 2, "Gitee": 1}
