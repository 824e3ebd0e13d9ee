"""The app keeps computed rankings and explanations between clicks (st.cache_data), but never past a change of the
data or the configuration under them: a change made at the command line while the app runs shows on the next run,
without clearing any cache and without waiting for a time-out."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import text

import tracker.scoring

from tests.app.test_people_page import COUNTED, IN_WINDOW, sql  # noqa: F401
from tests.app.test_ranking import CONFIG, run
from tracker import db as dbm
from tracker.access import Actor
from tracker.cli import main
from tracker.dataversion import config_version, data_version

EVALUATOR = Actor("evaluator", "evaluator")
AS_OF = "2026-10-31"


def shown_scores(at) -> dict[str, float]:
    table = at.dataframe[0].value
    return dict(zip(table["代号"], table["得分"]))


def cli_scores(url: str, config, capsys) -> dict[str, float]:
    capsys.readouterr()
    assert main(["--db", url, "--config", str(config), "score", "--as-of", AS_OF, "--json"]) == 0
    return {r["name"]: r["score"] for r in json.loads(capsys.readouterr().out)["results"] if r["status"] == "ranked"}


def test_an_edited_model_file_changes_the_ranking_on_the_next_run(monkeypatch, sample_db_url, tmp_path, capsys):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    monkeypatch.setenv("MTX_CONFIG", str(config))
    at = run(monkeypatch, sample_db_url, EVALUATOR, "views/ranking.py")
    monkeypatch.setenv("MTX_CONFIG", str(config))  # run() points MTX_CONFIG at the project's configuration
    at.switch_page("views/ranking.py").run()
    before = shown_scores(at)
    assert before == cli_scores(sample_db_url, config, capsys)

    # the award office overrides the preset with its own copy that rounds scores to whole points
    preset = Path(tracker.scoring.__file__).parent / "presets" / "mantianxing.yaml"
    model_text = preset.read_text(encoding="utf-8")
    assert "\ndecimals: 2\n" in model_text
    (config / "models" / "mantianxing.yaml").write_text(model_text.replace("\ndecimals: 2\n", "\ndecimals: 0\n"),
                                                        encoding="utf-8")

    at.switch_page("views/ranking.py").run()
    assert not at.exception, at.exception
    after = shown_scores(at)
    expected = cli_scores(sample_db_url, config, capsys)
    assert after == expected and after != before
    assert all(float(v).is_integer() for v in after.values())


def test_a_person_marked_as_a_bot_at_the_command_line_leaves_the_explanation_on_the_next_run(
        monkeypatch, sample_db_url, capsys):
    community = "hongtu-board"
    at = run(monkeypatch, sample_db_url, EVALUATOR)
    at.query_params["community"] = community
    at.query_params["as_of"] = AS_OF
    at.switch_page("views/community.py").run()

    def shown_contributors() -> float:
        table = next(d.value for d in at.dataframe if "代号" in d.value.columns)
        return float(table.set_index("代号").loc["contributor_count", "值"].replace(",", ""))

    counted = [pid for (pid,) in sql(sample_db_url, COUNTED, community=community)]
    before = shown_contributors()
    # the person with the most counted commits in the community, marked a bot as an administrator would
    top = sql(sample_db_url, f"""
        SELECT p.id FROM commits c JOIN commit_identities ci ON ci.id = c.author_identity_id
        JOIN people p ON p.id = ci.person_id JOIN community_repositories cr ON cr.repository_id = c.repository_id
        JOIN communities m ON m.id = cr.community_id
        WHERE m.slug = :community AND NOT c.is_merge AND NOT p.is_bot AND {IN_WINDOW}
        GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT 1""", community=community)[0][0]
    assert top in counted
    with dbm.session_scope(sample_db_url) as s:
        version = data_version(s)
    assert main(["--db", sample_db_url, "--config", str(CONFIG), "people", "bot", str(top), "--yes",
                 "--reason", "测试：缓存随数据失效"]) == 0
    with dbm.session_scope(sample_db_url) as s:
        assert data_version(s) != version

    at.switch_page("views/community.py").run()
    assert not at.exception, at.exception
    after = shown_contributors()
    assert after == before - 1
    assert after == len([pid for (pid,) in sql(sample_db_url, COUNTED, community=community)])


def test_the_configuration_version_follows_every_file(tmp_path):
    assert config_version(tmp_path / "absent") == ()
    (tmp_path / "models").mkdir()
    (tmp_path / "communities.yaml").write_text("a: 1\n")
    first = config_version(tmp_path)
    assert [name for name, _, _ in first] == ["communities.yaml"]
    (tmp_path / "models" / "m.yaml").write_text("x: 1\n")
    second = config_version(tmp_path)
    assert [name for name, _, _ in second] == ["communities.yaml", "models/m.yaml"]
    (tmp_path / "models" / "m.yaml").write_text("x: 22\n")
    assert config_version(tmp_path) != second


def test_user_administration_leaves_the_data_version_alone(sample_db_url, capsys):
    """Resetting a password changes no figure: the cached ranking stays (an audited people change does not)."""
    from tracker.cli.sample import ensure_demo_accounts

    ensure_demo_accounts(sample_db_url)
    with dbm.session_scope(sample_db_url) as s:
        before = data_version(s)
    assert main(["--db", sample_db_url, "users", "reset-password", "evaluator"]) == 0
    assert main(["--db", sample_db_url, "users", "deactivate", "evaluator"]) == 0
    assert main(["--db", sample_db_url, "users", "activate", "evaluator"]) == 0
    with dbm.session_scope(sample_db_url) as s:
        assert data_version(s) == before
        audited = s.execute(text("SELECT count(*) FROM audit_log WHERE action LIKE 'user.%'")).scalar()
    assert audited >= 3  # they were audited, only not counted as data
