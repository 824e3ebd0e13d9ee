"""A token for a git server reaches it through the credential helper only: never in a command line (`ps`), the
mirror's files, the database, the output; and the helper answers for its own origin and nothing else."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect, text

from collector.gitclone import Credential
from tests.collect.conftest import run_mtx
from tests.collector.git_builder import History, Person, expected_commits, generate, git
from tests.collector.git_http import CommandLines, git_http_server
from tracker import db as dbm

pytestmark = pytest.mark.postgres
TOKEN = "gitea_SECRETtoken0123456789abcdefSECRET"
TOKEN_VAR = "MTX_TEST_GIT_TOKEN"


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    history = History(root / "work")
    generate(history, 40, merge_every=9)
    git(root, "clone", "-q", "--bare", str(root / "work"), str(root / "kernel.git"))
    return root, history


def write_config(directory: Path, url: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "communities.yaml").write_text(yaml.safe_dump({
        "communities": [{"slug": "cq", "name": "重庆", "repositories": [
            {"platform": "git", "url": url, "token_env": TOKEN_VAR}]}]}), encoding="utf-8")
    return directory


def database_text(db_url: str) -> str:
    engine = dbm.get_engine(db_url)
    with engine.connect() as conn:
        return "\n".join(repr(row) for table in inspect(engine).get_table_names()
                         for row in conn.execute(text(f'SELECT * FROM "{table}"')))


def files_text(directory: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def test_the_token_goes_through_the_helper_and_nowhere_else(db_url, tmp_path, served):
    root, history = served
    with git_http_server(root, user="git", token=TOKEN, delay=0.05) as server:
        url = f"{server.url}/kernel.git"
        config = write_config(tmp_path / "config", url)
        mirrors = tmp_path / "mirrors"
        with CommandLines() as ps:
            first = run_mtx(db_url, config, "collect", "--git-cache", str(mirrors), extra_env={TOKEN_VAR: TOKEN})
            history.commit("one more", Person("B", "b@x.cn"), dt.datetime(2025, 5, 1, tzinfo=dt.timezone.utc))
            git(root, "--git-dir", str(root / "kernel.git"), "fetch", "-q", str(root / "work"), "main:main")
            second = run_mtx(db_url, config, "collect", "--git-cache", str(mirrors), extra_env={TOKEN_VAR: TOKEN})
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert "commits=1 " in second.stdout
    with dbm.session_scope(db_url) as s:
        shas = set(s.scalars(text("SELECT sha FROM commits")))
    assert shas == set(expected_commits(root / "kernel.git"))
    good = "Basic " + __import__("base64").b64encode(f"git:{TOKEN}".encode()).decode()
    assert None in server.seen and good in server.seen  # asked without, then answered by the helper
    git_lines = [line for line in ps.seen if "git" in line]
    assert any("fetch" in line for line in git_lines) and any("clone" in line for line in git_lines)
    assert not [line for line in ps.seen if TOKEN in line]
    assert TOKEN.encode() not in files_text(mirrors)
    assert TOKEN not in database_text(db_url)
    assert TOKEN not in first.stdout + first.stderr + second.stdout + second.stderr


def test_a_wrong_token_fails_that_repository_without_showing_it(db_url, tmp_path, served):
    root, _ = served
    with git_http_server(root, user="git", token="the-right-one-0000") as server:
        config = write_config(tmp_path / "config", f"{server.url}/kernel.git")
        result = run_mtx(db_url, config, "collect", "--git-cache", str(tmp_path / "mirrors"),
                         extra_env={TOKEN_VAR: TOKEN})
    assert result.returncode == 1
    line = next(l for l in result.stdout.splitlines() if "kernel" in l)
    assert ": failed" in line and "git clone failed" in line
    assert TOKEN not in result.stdout + result.stderr and TOKEN not in database_text(db_url)
    assert not list((tmp_path / "mirrors").glob("*.git"))  # nothing half-written took the mirror's place


HELPER = Path(__file__).resolve().parents[2] / "collector" / "git_credential.py"


@pytest.mark.parametrize("asked, answered", [
    ("protocol=https\nhost=git.example.cn\n", True),
    ("protocol=https\nhost=git.example.cn:443\n", True),
    ("protocol=https\nhost=evil.example.cn\n", False),       # a redirect to another host gets nothing
    ("protocol=http\nhost=git.example.cn\n", False),         # nor the same host over plain http
    ("protocol=https\nhost=git.example.cn:8443\n", False),   # nor another port
])
def test_the_helper_answers_for_its_origin_only(asked, answered):
    env = {"PATH": os.environ["PATH"], "MTX_GIT_CREDENTIAL_ORIGIN": "https://git.example.cn:443",
           "MTX_GIT_CREDENTIAL_USER": "git", "MTX_GIT_CREDENTIAL_SECRET": TOKEN}
    out = subprocess.run([sys.executable, str(HELPER), "get"], input=asked, env=env, capture_output=True,
                         text=True, check=True).stdout
    assert (out == f"username=git\npassword={TOKEN}\n") is answered and (TOKEN in out) is answered


def test_a_token_is_never_sent_over_plain_http_to_another_host():
    with pytest.raises(ValueError, match="never sent over plain http"):
        Credential("http://git.example.cn:80", "git", TOKEN)
    assert Credential("http://127.0.0.1:8080", "git", TOKEN).origin == "http://127.0.0.1:8080"
    assert TOKEN not in repr(Credential("https://git.example.cn:443", "git", TOKEN))
