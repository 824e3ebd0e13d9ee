"""Hostile configuration files (issue 14): credentials in URLs are refused and never echoed; YAML alias bombs are
refused in bounded time, naming the file; aliases are indexed once."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tracker import db as dbm
from tracker.cli import main
from tracker.models import AuditEntry, Community, Repository
from tracker.scoring.identity import model_hash
from tracker.scoring.loading import load_model

MTX = str(Path(sys.executable).parent / "mtx")
SECRET = "ghp_S3cretTokenValue0123456789abcdefABCD"

CREDENTIAL_URLS = f"""\
platforms:
  gitlab: {{api_url: "https://oauth2:{SECRET}@gitlab.example.org/api/v4"}}
communities:
  - slug: demo
    name: 演示社区
    homepage: https://admin:{SECRET}@demo.example.org/
    repositories:
      - https://user:{SECRET}@github.com/acme/engine
      - {{platform: gitlab, path: grp/app, api_url: "https://{SECRET}@gitlab.example.org/api/v4"}}
      - https://github.com/acme/clean
    organisations:
      - https://{SECRET}@gitcode.com/openharmony
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_config_check_refuses_a_user_name_or_token_in_every_url_without_echoing_it(tmp_path, capsys):
    config = write(tmp_path / "config", "communities.yaml", CREDENTIAL_URLS)
    assert main(["--config", str(config), "config", "check", "--json"]) == 1
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    errors = [p for p in json.loads(out)["problems"] if "user name or password" in p["message"]]
    assert {(p["key"], p["line"]) for p in errors} == {
        ("platforms.gitlab.api_url", 2), ("communities[0].homepage", 6), ("communities[0].repositories[0]", 8),
        ("communities[0].repositories[1].api_url", 9), ("communities[0].organisations[0]", 12)}
    assert all("token_env" in p["fix"] and "***@" in p["message"] for p in errors)

    assert main(["--config", str(config), "config", "check"]) == 1  # the text report hides it too
    out, err = capsys.readouterr()
    assert SECRET not in out + err and "https://***@github.com/acme/engine" in err


@pytest.mark.postgres
def test_collect_with_a_credential_url_stores_nothing(db_url, tmp_path):
    config = write(tmp_path / "config", "communities.yaml", CREDENTIAL_URLS)
    done = subprocess.run([MTX, "--db", db_url, "--config", str(config), "collect"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and SECRET not in done.stdout + done.stderr
    with dbm.session_scope(db_url) as session:
        assert [session.scalar(select(func.count()).select_from(t)) for t in (Repository, Community, AuditEntry)] \
            == [0, 0, 0]


BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
communities:
  - {slug: bomb, name: 炸弹, repositories: *i}
"""


@pytest.mark.parametrize("command", [("config", "check"), ("collect",)])
def test_a_yaml_alias_bomb_is_refused_quickly_naming_the_file(tmp_path, command):
    config = write(tmp_path / "config", "communities.yaml", BILLION_LAUGHS)
    started = time.monotonic()
    done = subprocess.run([MTX, "--db", f"sqlite:///{tmp_path / 'mtx.db'}", "--config", str(config), *command],
                          capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{config / 'communities.yaml'}" in done.stderr and "expands to more than 200,000 nodes" in done.stderr


def test_a_recursive_alias_is_refused(tmp_path, capsys):
    config = write(tmp_path / "config", "communities.yaml", "communities: &loop\n  - *loop\n")
    assert main(["--config", str(config), "config", "check"]) == 1
    assert "refers to itself" in capsys.readouterr().err


def test_ordinary_aliases_still_work_and_point_at_their_lines(tmp_path, capsys):
    config = write(tmp_path / "config", "communities.yaml", """\
communities:
  - slug: one
    name: 一
    repositories: &repos
      - https://github.com/acme/engine
      - https://github.com/acme/engine/
  - {slug: two, name: 二, repositories: *repos}
""")
    assert main(["--config", str(config), "config", "check", "--json"]) == 1
    errors = [p for p in json.loads(capsys.readouterr().out)["problems"] if p["severity"] == "error"]
    duplicates = [(p["key"], p["line"]) for p in errors if "appears twice" in p["message"]]
    # the anchored list's own line, and for the second community the line where the alias is used
    assert duplicates == [("communities[0].repositories[1]", 6), ("communities[1].repositories[1]", 7)]


# --- preset scoring models ship with the package ----------------------------------------------------------------------

SIGNALS = ("name,created_since,updated_since,contributor_count,org_count,commit_frequency,recent_releases_count,"
           "updated_issues_count,closed_issues_count,comment_frequency,dependents_count\n"
           "acme/alpha,14,9,1,1,0.12,0,2,2,0,0\n"
           "acme/beta,0,0,274,7,17.19,0,356,344,0.19,2\n")


def score(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MTX, "score-signals", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_a_preset_model_is_found_from_any_directory(tmp_path):
    (tmp_path / "signals.csv").write_text(SIGNALS, encoding="utf-8")
    done = score(tmp_path, "--model", "criticality-legacy", "signals.csv", "--json")  # no config/ here at all
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [r["name"] for r in data["results"]] == ["acme/beta", "acme/alpha"]
    assert data["model"]["name"] == "criticality-legacy"


def test_config_models_add_a_model_and_override_a_preset(tmp_path):
    from tracker.scoring.loading import PRESETS_DIR

    (tmp_path / "signals.csv").write_text(SIGNALS, encoding="utf-8")
    models = tmp_path / "config" / "models"
    models.mkdir(parents=True)
    preset = yaml.safe_load((PRESETS_DIR / "criticality-legacy.yaml").read_text(encoding="utf-8"))
    (models / "criticality-legacy.yaml").write_text(yaml.safe_dump(dict(preset, decimals=2), allow_unicode=True),
                                                    encoding="utf-8")  # the override rounds to 2 decimals
    own = dict(preset, name="our-own")
    (models / "our-own.yaml").write_text(yaml.safe_dump(own, allow_unicode=True), encoding="utf-8")

    stock = json.loads(score(tmp_path / "config", "--model", "criticality-legacy", "../signals.csv",
                             "--json").stdout)["results"]  # run from config/: no config/models below it, the preset
    overridden = score(tmp_path, "--model", "criticality-legacy", "signals.csv", "--json")
    assert overridden.returncode == 0, overridden.stderr
    overridden_model = json.loads(overridden.stdout)["model"]
    overridden = json.loads(overridden.stdout)["results"]
    assert [r["score"] for r in overridden] == [round(r["score"], 2) for r in stock] != [r["score"] for r in stock]
    assert overridden_model["hash"] != model_hash(load_model("criticality-legacy", tmp_path / "nowhere"))
    added = score(tmp_path, "--model", "our-own", "signals.csv", "--json")
    assert added.returncode == 0 and json.loads(added.stdout)["model"]["name"] == "our-own"
    unknown = score(tmp_path, "--model", "nope", "signals.csv")
    assert unknown.returncode == 1 and "criticality-legacy" in unknown.stderr and "our-own" in unknown.stderr
