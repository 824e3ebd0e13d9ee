"""`mtx config check`: every problem at once, with file, line, key and fix; the shipped configuration passes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tracker.cli import main
from tracker.config import check_config, load_config, parse_web_url, ConfigError

ROOT = Path(__file__).resolve().parents[2]

BAD_COMMUNITIES = """\
communities:
  - slug: demo
    name: 演示社区
    focus: aerospace            # schema error: not a focus field
    repositories:
      - https://github.com/acme/engine
      - https://github.com/acme/engine/    # semantic: the same repository twice
  - slug: other
    name: 其他
    repositories:
      - https://code.example.org/x/y      # semantic: unknown host
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_configuration_passes(capsys):
    assert main(["--config", str(ROOT / "config"), "config", "check"]) == 0
    assert "configuration OK" in capsys.readouterr().out


def test_one_schema_and_two_semantic_mistakes_are_all_reported(tmp_path, capsys):
    write(tmp_path, "communities.yaml", BAD_COMMUNITIES)
    code = main(["--config", str(tmp_path), "config", "check", "--json"])
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert [(p["key"], p["line"]) for p in errors] == [
        ("communities[0].focus", 4),
        ("communities[0].repositories[1]", 7),
        ("communities[1].repositories[0]", 11),
    ]
    assert "aerospace" not in errors[0]["fix"] and "automotive" in errors[0]["fix"]
    assert "appears twice" in errors[1]["message"]
    assert "unknown host 'code.example.org'" in errors[2]["message"]
    assert all(p["file"].endswith("communities.yaml") and p["fix"] for p in errors)


def test_text_report_names_file_line_and_fix(tmp_path, capsys):
    write(tmp_path, "communities.yaml", BAD_COMMUNITIES)
    assert main(["--config", str(tmp_path), "config", "check"]) == 1
    err = capsys.readouterr().err
    assert "communities.yaml:4: 错误 error at communities[0].focus" in err
    assert "fix: remove the duplicate entry" in err
    assert "3 error(s)" in err


def test_slug_used_twice_and_unset_token_variable(tmp_path):
    write(tmp_path, "communities.yaml", """\
platforms:
  github: {token_env: [MTX_TEST_UNSET_TOKEN]}
communities:
  - {slug: a, name: 甲, repositories: [https://github.com/o/one]}
  - {slug: a, name: 乙, repositories: [https://github.com/o/two]}
""")
    config, problems = check_config(tmp_path, env={})
    assert config is None
    by_key = {p.key: p for p in problems}
    assert by_key["communities[1].slug"].severity == "error"
    warning = by_key["platforms.github.token_env"]
    assert warning.severity == "warning" and "MTX_TEST_UNSET_TOKEN" in warning.message
    config, problems = check_config(tmp_path, env={"MTX_TEST_UNSET_TOKEN": "x"})
    assert not any(p.key == "platforms.github.token_env" for p in problems)


def test_token_value_in_token_env_is_refused_without_echoing_it(tmp_path):
    secret = "ghp_" + "A1b2" * 9
    write(tmp_path, "communities.yaml", f"platforms:\n  github: {{token_env: [{secret}]}}\ncommunities: []\n")
    config, problems = check_config(tmp_path, env={})
    assert config is None
    assert problems and all(secret not in p.render() for p in problems)


def test_contradictory_award_rules(tmp_path):
    shutil.copy(ROOT / "config" / "communities.yaml", tmp_path / "communities.yaml")
    write(tmp_path, "awards.yaml", """\
version: bad-1
name: 矛盾的规则
policy_period: {start: 2027-12-31, end: 2025-01-01}
amount_per_product: 600000
ceiling: {amount: 500000, unit: yuan, scope: policy_period}
last_award: whole_only
""")
    _, problems = check_config(tmp_path, env={})
    keys = {p.key for p in problems if p.severity == "error"}
    assert {"amount_per_product", "policy_period.end"} <= keys


def test_shipped_award_rules_carry_the_policy_values():
    rules = load_config(ROOT / "config", env={}).awards
    assert rules.amount_per_product == 200_000
    assert (rules.ceiling.amount, rules.ceiling.unit, rules.ceiling.scope) == (500_000, "yuan", "policy_period")
    assert (rules.policy_period.start.year, rules.policy_period.end.year) == (2025, 2027)


def test_load_config_raises_with_every_error(tmp_path):
    write(tmp_path, "communities.yaml", BAD_COMMUNITIES)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert len([p for p in info.value.problems if p.severity == "error"]) == 3


def test_yaml_syntax_error_names_the_line(tmp_path):
    write(tmp_path, "communities.yaml", "communities:\n  - slug: a\n    name: [unclosed\n")
    _, problems = check_config(tmp_path, env={})
    assert problems[0].line is not None and "not valid YAML" in problems[0].message


@pytest.mark.parametrize("url, expected", [
    ("https://github.com/EasyXMen/EasyXMen", ("github", "EasyXMen/EasyXMen")),
    ("https://github.com/o/r/tree/main", ("github", "o/r")),
    ("https://atomgit.com/easyxmen/XMen", ("gitcode", "easyxmen/XMen")),
    ("https://gitcode.com/openharmony/docs.git", ("gitcode", "openharmony/docs")),
    ("https://gitee.com/openharmony/docs/", ("gitee", "openharmony/docs")),
    ("https://gitlab.com/group/sub/project/-/tree/main", ("gitlab", "group/sub/project")),
])
def test_repository_urls_map_to_platform_and_path(url, expected):
    assert parse_web_url(url) == expected


def test_organisation_url_is_not_a_repository():
    with pytest.raises(ValueError, match="organisation"):
        parse_web_url("https://gitcode.com/openharmony")


def test_a_model_naming_an_unknown_signal_fails_config_check(tmp_path, capsys):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    model = (ROOT / "tracker" / "scoring" / "presets" / "criticality-legacy.yaml").read_text(encoding="utf-8")
    (tmp_path / "config" / "models" / "criticality-legacy.yaml").write_text(
        model.replace("- name: created_since", "- name: created_sinse", 1), encoding="utf-8")
    assert main(["--config", str(tmp_path / "config"), "config", "check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert len(errors) == 1
    assert errors[0]["file"].endswith("criticality-legacy.yaml")
    assert "created_sinse" in errors[0]["message"] and "created_since" in errors[0]["fix"]
