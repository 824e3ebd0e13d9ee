"""社区排名 through the app (AppTest): navigation by role, the live ranking equal to `mtx score`, a refusal by URL."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tracker.access import Actor
from tracker.cli import main

CONFIG = Path(__file__).resolve().parents[2] / "config"


def run(monkeypatch, url, actor, page=None):
    from tracker.cli.sample import ensure_demo_accounts

    ensure_demo_accounts(url)  # the app re-checks the signed-in user against the users table on every run
    monkeypatch.setenv("MTX_DATABASE_URL", url)
    monkeypatch.setenv("MTX_CONFIG", str(CONFIG))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["actor"] = actor
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_an_evaluator_sees_the_ranking_as_mtx_score_ranks(monkeypatch, sample_db_url, capsys):
    at = run(monkeypatch, sample_db_url, Actor("evaluator", "evaluator"), "views/ranking.py")
    assert at.title[0].value == "社区排名"
    assert "待评审" in at.info[0].value and "70" in at.info[0].value
    shown = at.dataframe[0].value
    capsys.readouterr()
    assert main(["--db", sample_db_url, "--config", str(CONFIG), "score", "--as-of", "2026-10-31", "--json"]) == 0
    expected = [r for r in json.loads(capsys.readouterr().out)["results"] if r["status"] == "ranked"]
    assert list(shown["代号"]) == [r["name"] for r in expected]
    assert list(shown["得分"]) == [r["score"] for r in expected]
    assert list(shown["排名"]) == [r["rank"] for r in expected]


def test_the_focus_field_ranks_within_it(monkeypatch, sample_db_url):
    at = run(monkeypatch, sample_db_url, Actor("admin", "admin"), "views/ranking.py")
    next(box for box in at.selectbox if box.label == "重点领域").select("教育").run()
    shown = at.dataframe[0].value
    assert set(shown["领域"]) == {"教育"} and list(shown["排名"]) == list(range(1, len(shown) + 1))


def test_an_enterprise_user_has_no_ranking_and_its_address_is_refused(monkeypatch, sample_db_url):
    from tracker import db as dbm

    with dbm.get_engine(sample_db_url).connect() as conn:
        enterprise = conn.exec_driver_sql("SELECT id FROM enterprises ORDER BY id LIMIT 1").scalar()
    actor = Actor("enterprise", "enterprise", enterprise)
    at = run(monkeypatch, sample_db_url, actor)
    at.switch_page("views/refused.py").run()
    assert at.title[0].value == "无权访问" and "不能查看此页面" in at.error[0].value
    assert not at.dataframe  # nothing of the ranking


def test_a_round_ranks_as_mtx_rounds_results_does(monkeypatch, demo_db_url, capsys):
    at = run(monkeypatch, demo_db_url, Actor("admin", "admin"), "views/ranking.py")
    source = next(r for r in at.radio if r.label == "排名依据")
    assert source.options[0] == "实时（定量部分）" and len(source.options) == 2
    source.set_value(source.options[1]).run()
    assert not at.exception, at.exception
    assert "暂定结果" in at.info[0].value
    shown = at.dataframe[0].value
    capsys.readouterr()
    assert main(["--db", demo_db_url, "--config", str(CONFIG), "--as", "admin", "rounds", "results", "1",
                 "--json"]) == 0
    expected = [r for r in json.loads(capsys.readouterr().out)["results"] if r["status"] == "ranked"]
    assert list(shown["代号"]) == [r["community"] for r in expected]
    assert list(shown["总分"]) == [r["total"] for r in expected]
    assert list(shown["排名"]) == [r["rank"] for r in expected]


def test_an_expert_sees_no_round_ranking_before_scoring_closes(monkeypatch, demo_db_url):
    at = run(monkeypatch, demo_db_url, Actor("evaluator", "evaluator"), "views/ranking.py")
    assert not [r for r in at.radio if r.label == "排名依据"]      # the demo round is frozen: only the live ranking
    from tracker import db as dbm
    from tracker.rounds import office
    from tracker.rounds.lifecycle import RoundError, get_round

    import pytest

    with pytest.raises(RoundError, match="不能查看该轮次的结果"):
        with dbm.session_scope(demo_db_url) as s:
            office.ranking_results(s, Actor("evaluator", "evaluator"), get_round(s, 1))


def test_the_ranking_links_to_a_community_detail_with_its_choices(monkeypatch, sample_db_url):
    at = run(monkeypatch, sample_db_url, Actor("evaluator", "evaluator"), "views/ranking.py")
    next(b for b in at.selectbox if b.label == "查看社区详情").select("bayu-edu").run()
    link = at.get("page_link")[0].proto
    assert link.label == "打开 巴渝开源教育（示例） 的社区详情 →"
    assert link.page.endswith("community") and "community=bayu-edu" in link.query_string
    assert "model=mantianxing" in link.query_string and "as_of=2026-10-31" in link.query_string
