"""评审轮次 through the app (AppTest) on the demo round (frozen; expert-zhang and expert-wang have scored; the demo
evaluator has not, and has declared 回避 on sctu-lab)."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tracker.access import Actor

CONFIG = Path(__file__).resolve().parents[2] / "config"
SIGNALS = ["expert_focus_field_demonstration", "expert_governance_licence", "expert_documentation",
           "expert_community_building"]


def open_rounds(monkeypatch, url, actor):
    monkeypatch.setenv("MTX_DATABASE_URL", url)
    monkeypatch.setenv("MTX_CONFIG", str(CONFIG))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["actor"] = actor
    at.run()
    at.switch_page("views/rounds.py").run()
    assert not at.exception, at.exception
    return at


def scores_of(url, expert):
    with create_engine(url).connect() as conn:
        return conn.execute(text(
            "SELECT c.slug, s.signal, s.score, s.comment, s.source FROM expert_scores s "
            "JOIN round_candidates rc ON rc.id = s.candidate_id JOIN communities c ON c.id = rc.community_id "
            "WHERE s.expert = :e ORDER BY c.slug, s.signal"), {"e": expert}).all()


def inputs_for(at, slug):
    return [n for n in at.number_input if n.key.startswith(f"rate-1-{slug}-")]


def test_an_expert_sees_their_candidates_and_the_conflict_is_not_editable(monkeypatch, demo_db_url):
    at = open_rounds(monkeypatch, demo_db_url, Actor("evaluator", "evaluator"))
    assert at.title[0].value == "评审轮次"
    with create_engine(demo_db_url).connect() as conn:
        passed = set(conn.execute(text("SELECT c.slug FROM round_candidates rc JOIN communities c ON "
                                       "c.id = rc.community_id WHERE rc.check_status = 'passed'")).scalars())
    labels = [e.label for e in at.expander]
    assert {label.rsplit("（", 1)[1].split("）")[0] for label in labels} == passed
    assert [label for label in labels if label.endswith("回避")] == ["山城理工开源实验室（示例）（sctu-lab）· 回避"]
    assert not inputs_for(at, "sctu-lab")                       # no form for the conflicted candidate
    assert len(inputs_for(at, "yuche-os")) == 4
    assert "已完成 0/6 个申报的评分" in at.get("progress")[0].proto.text


def test_an_expert_enters_a_score_and_it_is_saved_as_an_import_would(monkeypatch, demo_db_url):
    at = open_rounds(monkeypatch, demo_db_url, Actor("evaluator", "evaluator"))
    for box, value in zip(inputs_for(at, "yuche-os"), [4.5, 3.0, 5.0, 2.5]):
        box.set_value(value)
    next(t for t in at.text_area if t.key == "comment-1-yuche-os").input("开源治理清晰")
    next(b for b in at.button if b.label == "保存评分" and "yuche-os" in b.proto.form_id).click().run()
    assert not at.exception, at.exception
    assert "已保存 渝车智控 OS（示例） 的 4 项评分" in [s.value for s in at.success]
    saved = scores_of(demo_db_url, "evaluator")
    assert [(slug, sig, score, comment) for slug, sig, score, comment, _ in saved] == sorted(
        [("yuche-os", s, v, "开源治理清晰") for s, v in zip(SIGNALS, [4.5, 3.0, 5.0, 2.5])])
    assert {source for *_, source in saved} == {"form:evaluator"}
    with create_engine(demo_db_url).connect() as conn:
        actor, after = conn.execute(text("SELECT actor, after FROM audit_log WHERE action = 'round.import_scores' "
                                         "AND actor = 'evaluator'")).one()
    after = json.loads(after) if isinstance(after, str) else after
    assert actor == "evaluator" and after["community"] == "yuche-os" and after["source"] == "form"
    assert "已完成 1/6 个申报的评分" in at.get("progress")[0].proto.text
    assert next(e for e in at.expander if "yuche-os" in e.label).label.endswith("已完成")


def test_a_rating_off_the_scale_is_refused_and_nothing_is_written(monkeypatch, demo_db_url):
    from tracker import db as dbm
    from tracker.rounds.lifecycle import get_round
    from tracker.rounds.scoreform import save_candidate_scores

    with dbm.session_scope(demo_db_url) as s:
        result = save_candidate_scores(s, Actor("evaluator", "evaluator"), get_round(s, 1), "evaluator", "yuche-os",
                                       {SIGNALS[0]: 6, SIGNALS[1]: "很好", SIGNALS[2]: 3}, None)
    assert not result.written and [p.code for p in result.problems] == ["cell.out_of_range", "cell.not_a_number"]
    assert scores_of(demo_db_url, "evaluator") == []


def test_an_expert_cannot_score_for_another(monkeypatch, demo_db_url):
    import pytest

    from tracker import db as dbm
    from tracker.rounds.lifecycle import RoundError, get_round
    from tracker.rounds.scoreform import save_candidate_scores

    with pytest.raises(RoundError, match="只能为自己"):
        with dbm.session_scope(demo_db_url) as s:
            save_candidate_scores(s, Actor("evaluator", "evaluator"), get_round(s, 1), "expert-zhang", "yuche-os",
                                  {SIGNALS[0]: 1}, None)
    assert [r[2] for r in scores_of(demo_db_url, "expert-zhang") if r[0] == "yuche-os"] != [1.0]


def test_the_office_sees_results_and_closes_scoring_through_a_confirmation(monkeypatch, demo_db_url):
    at = open_rounds(monkeypatch, demo_db_url, Actor("admin", "admin"))
    assert [t.label for t in at.tabs] == ["申报与形式审查", "专家与回避", "结果与分配", "公示与文件"]
    results = next(d.value for d in at.dataframe if "总分" in d.value.columns)
    assert "暂定结果：评分尚未结束。" in [i.value for i in at.info]
    with create_engine(demo_db_url).connect() as conn:
        flagged = conn.execute(text("SELECT integrity_flags FROM round_candidates rc JOIN communities c ON "
                                    "c.id = rc.community_id WHERE c.slug = 'chaotianmen-widgets'")).scalar()
    flagged = json.loads(flagged) if isinstance(flagged, str) else flagged
    row = results[results["社区"] == "chaotianmen-widgets"].iloc[0]
    assert row["诚信提示"] == "；".join(f["label"] for f in flagged) and len(flagged) == 3
    # 结束评分: bayu-edu has one complete sheet (wang withdrew, the evaluator has not scored): refused without the box
    next(b for b in at.button if b.label == "结束评分").click().run()
    next(b for b in at.button if b.label == "确认").click().run()
    assert not at.exception, at.exception
    assert any("完整评分的专家不足" in e.value for e in at.error)
    with create_engine(demo_db_url).connect() as conn:
        assert conn.execute(text("SELECT status FROM evaluation_rounds WHERE id = 1")).scalar() == "frozen"
    next(c for c in at.checkbox if c.key == "accept_incomplete").check().run()
    next(b for b in at.button if b.label == "结束评分").click().run()
    next(b for b in at.button if b.label == "确认").click().run()
    assert "评分已结束" in [s.value for s in at.success]
    with create_engine(demo_db_url).connect() as conn:
        assert conn.execute(text("SELECT status FROM evaluation_rounds WHERE id = 1")).scalar() == "scored"
        assert conn.execute(text("SELECT actor FROM audit_log WHERE action = 'round.scored'")).scalar() == "admin"
