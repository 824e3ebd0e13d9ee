"""Issue 18, "Must show": a round from create to scored through `mtx rounds`, on SQLite and PostgreSQL; the freeze; a
bad score sheet refused whole and a good one imported twice equal to once."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

import collector.records as rec
from tracker import db as dbm
from tracker.cli import main
from tracker.collect import store
from tracker.models import AuditEntry, Community, CommunityRepository, ExpertScore, Repository, SignalValue
from tracker.sample import build_sample

pytestmark = pytest.mark.postgres

CONFIG = Path(__file__).resolve().parents[2] / "config"
OFFICE = "office"  # not a registered user: the operator at the shell, an administrator
EXPERTS = [f"expert{n}" for n in range(1, 8)]
CANDIDATES = ["bayu-edu", "cq-gov-data", "donghai-watch", "hongtu-board", "jialing-middleware", "liangjiang-adas"]
PASSWORD = "Expert-pass-2026"
QUANTITATIVE = 14  # mantianxing's signals that are not expert ratings


@pytest.fixture
def sample_url(db_url):
    build_sample(db_url, scale=1)
    return db_url


def mtx(capsys, url, *args, user=OFFICE):
    capsys.readouterr()
    code = main(["--db", url, "--config", str(CONFIG), "--as", user, *args])
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, url, *args, user=OFFICE) -> str:
    code, out, err = mtx(capsys, url, *args, user=user)
    assert code == 0, err
    return out


def refused(capsys, url, *args, words: str, user=OFFICE) -> None:
    code, out, err = mtx(capsys, url, *args, user=user)
    assert code == 1 and words in err, (code, err)


def status(url) -> str:
    with dbm.get_engine(url).connect() as conn:
        return conn.execute(text("SELECT status FROM evaluation_rounds")).scalar()


def ledger_usccs(url) -> list[str]:
    with dbm.get_engine(url).connect() as conn:
        return list(conn.execute(text("SELECT uscc FROM enterprises WHERE registered_in_chongqing "
                                      "ORDER BY uscc")).scalars())


def fill_sheet(path: Path, filled: Path, ratings: dict[str, float], comment: str = "") -> None:
    wb = load_workbook(path)
    ws = wb["评分表"]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        for cell, header in zip(row, headers):
            for signal, value in ratings.items():
                if header and signal in header:
                    cell.value = value
            if header == "评语 comment":
                cell.value = comment
    wb.save(filled)


def make_round(capsys, url, min_experts: int = 7) -> None:
    out = ok(capsys, url, "rounds", "create", "--year", "2026", "--name", "2026年度特色开源社区", "--model",
             "mantianxing", "--cutoff", "2026-10-31", "--budget", "6000000", "--max-award", "2000000",
             "--min-experts", str(min_experts))
    assert "round created: 1" in out and status(url) == "draft"


def applied_and_checked(capsys, url) -> None:
    """Six applications; five pass the formal check, the one without a USCC fails it."""
    usccs = ledger_usccs(url)
    ok(capsys, url, "rounds", "open", "1")
    for n, slug in enumerate(CANDIDATES[:5]):
        ok(capsys, url, "rounds", "apply", "1", slug, "--applicant", f"申报单位{n}", "--enterprise", usccs[n])
    ok(capsys, url, "rounds", "apply", "1", CANDIDATES[5], "--applicant", "未填代码的单位")
    for slug in CANDIDATES[:5]:
        assert "passed" in ok(capsys, url, "rounds", "check", "1", slug, "--pass")
    refused(capsys, url, "rounds", "check", "1", CANDIDATES[5], "--pass", words="chongqing_applicant")
    refused(capsys, url, "rounds", "close-check", "1", words=CANDIDATES[5])  # no verdict yet
    refused(capsys, url, "rounds", "check", "1", CANDIDATES[5], "--fail", words="--reason")
    ok(capsys, url, "rounds", "check", "1", CANDIDATES[5], "--fail", "--reason", "未提供统一社会信用代码")
    ok(capsys, url, "rounds", "close-check", "1")
    assert status(url) == "checked"


def panel(capsys, url) -> None:
    for name in EXPERTS:
        ok(capsys, url, "users", "add", name, "--role", "evaluator", "--password-env", "MTX_TEST_EXPERT_PASSWORD")
        ok(capsys, url, "rounds", "experts", "add", "1", name)


@pytest.fixture(autouse=True)
def _password(monkeypatch):
    monkeypatch.setenv("MTX_TEST_EXPERT_PASSWORD", PASSWORD)


def test_a_round_from_create_to_scored(capsys, sample_url, tmp_path):
    url = sample_url
    make_round(capsys, url)
    refused(capsys, url, "rounds", "close-check", "1", words="open")  # draft: nothing to close
    refused(capsys, url, "rounds", "freeze", "1", words="checked")
    refused(capsys, url, "rounds", "apply", "1", "no-such-community", "--applicant", "x", words="no-such-community")
    refused(capsys, url, "rounds", "create", "--year", "2026", "--name", "2026年度特色开源社区", "--cutoff",
            "2026-10-31", "--budget", "6000000", "--max-award", "2000000", words="exists already")
    applied_and_checked(capsys, url)
    refused(capsys, url, "rounds", "apply", "1", "sctu-lab", "--applicant", "late", words="checked")
    refused(capsys, url, "rounds", "apply", "1", CANDIDATES[0], "--applicant", "again", words="checked")
    panel(capsys, url)
    refused(capsys, url, "rounds", "experts", "add", "1", EXPERTS[0], words="already")
    refused(capsys, url, "rounds", "experts", "add", "1", OFFICE, words="not an active evaluator")
    refused(capsys, url, "rounds", "import-scores", "1", EXPERTS[0], str(tmp_path / "x.xlsx"), words="frozen")

    assert "signal values" in ok(capsys, url, "rounds", "freeze", "1")
    assert status(url) == "frozen"
    with dbm.session_scope(url) as s:
        assert s.scalar(select(text("count(*)")).select_from(SignalValue)) == 5 * QUANTITATIVE  # not the failed one

    # a conflict declared before scoring: expert1 never gets bayu-edu on the sheet
    ok(capsys, url, "rounds", "conflict", "1", EXPERTS[0], CANDIDATES[0], "--reason", "近三年曾为申报单位提供咨询")
    refused(capsys, url, "rounds", "conflict", "1", EXPERTS[1], CANDIDATES[1], "--reason", "x", words="only for "
            "themselves", user=EXPERTS[2])  # an expert declares their own conflicts only
    ratings = {"expert_focus_field_demonstration": 4, "expert_governance_licence": 3.5, "expert_documentation": 5,
               "expert_community_building": 2}
    for n, name in enumerate(EXPERTS):
        sheet, filled = tmp_path / f"{name}.xlsx", tmp_path / f"{name}-filled.xlsx"
        ok(capsys, url, "rounds", "scoresheet", "1", name, str(sheet))
        slugs = [r[0] for r in load_workbook(sheet)["评分表"].iter_rows(min_row=2, values_only=True)]
        assert slugs == [s for s in CANDIDATES[:5] if not (name == EXPERTS[0] and s == CANDIDATES[0])]
        fill_sheet(sheet, filled, {k: v - (n % 2) * 0.5 for k, v in ratings.items()}, comment=f"{name} 的评语")
        user = name if n == 6 else OFFICE  # the office imports sheets; an expert may import their own
        assert "4 个评分" not in ok(capsys, url, "rounds", "import-scores", "1", name, str(filled), user=user)
    refused(capsys, url, "rounds", "import-scores", "1", EXPERTS[0], str(tmp_path / f"{EXPERTS[0]}-filled.xlsx"),
            words="only for themselves", user=EXPERTS[6])

    # experts see only their own scores until the round is scored
    seen = json.loads(ok(capsys, url, "rounds", "show", "1", "--json", user=EXPERTS[3]))
    assert {s["expert"] for c in seen["candidates"] for s in c["scores"]} == {EXPERTS[3]}
    everything = json.loads(ok(capsys, url, "rounds", "show", "1", "--json"))
    assert {s["expert"] for c in everything["candidates"] for s in c["scores"]} == set(EXPERTS)

    # a conflict declared after scoring discards those scores (audited)
    out = ok(capsys, url, "rounds", "conflict", "1", EXPERTS[1], CANDIDATES[1], "--reason", "与申报单位存在股权关系")
    assert "4 scores discarded" in out
    with dbm.session_scope(url) as s:
        left = s.scalars(select(ExpertScore.signal).where(ExpertScore.expert == EXPERTS[1])).all()
        assert len(left) == 4 * 4  # five candidates on expert2's sheet, one withdrawn from: four, four ratings each
        discarded = s.scalars(select(AuditEntry).where(AuditEntry.action == "round.scores_discard")).all()
        assert len(discarded) == 1 and len(discarded[0].before["scores"]) == 4

    # seven experts, min 7: two candidates have six non-conflicted experts -> refused unless accepted incomplete
    refused(capsys, url, "rounds", "close-scoring", "1", words=CANDIDATES[0])
    out = ok(capsys, url, "rounds", "close-scoring", "1", "--accept-incomplete")
    assert status(url) == "scored" and CANDIDATES[0] in out and CANDIDATES[1] in out
    refused(capsys, url, "rounds", "conflict", "1", EXPERTS[2], CANDIDATES[2], "--reason", "late", words="scored")
    refused(capsys, url, "rounds", "experts", "add", "1", EXPERTS[0], words="scored")
    after = json.loads(ok(capsys, url, "rounds", "show", "1", "--json", user=EXPERTS[3]))
    assert {s["expert"] for c in after["candidates"] for s in c["scores"]} == set(EXPERTS)  # now everyone's

    with dbm.session_scope(url) as s:  # every step audited with who and when
        steps = [(a.action, a.actor) for a in s.scalars(select(AuditEntry).where(AuditEntry.entity == "round")
                                                          .order_by(AuditEntry.id))]
    actions = [a for a, _ in steps]
    for action in ("round.create", "round.open", "round.checked", "round.frozen", "round.scored"):
        assert actions.count(action) == 1 and dict(steps)[action] == OFFICE
    assert actions.count("round.import_scores") == 7 and ("round.import_scores", EXPERTS[6]) in steps


def test_the_frozen_signals_do_not_follow_later_data(capsys, sample_url):
    url = sample_url
    make_round(capsys, url, min_experts=1)
    applied_and_checked(capsys, url)
    ok(capsys, url, "rounds", "freeze", "1")
    frozen = json.loads(ok(capsys, url, "rounds", "show", "1", "--json"))["candidates"]
    live = lambda: {e["community"]: e["signals"] for e in json.loads(ok(  # noqa: E731
        capsys, url, "metrics", "--as-of", "2026-10-31", "--format", "json"))}
    before = live()
    # more data collected for bayu-edu (a new contributor before the cutoff), and two people merged
    slug = CANDIDATES[0]
    with dbm.session_scope(url) as s:
        repo = s.scalar(select(Repository).join(CommunityRepository, CommunityRepository.repository_id == Repository.id)
                        .join(Community, Community.id == CommunityRepository.community_id)
                        .where(Community.slug == slug).order_by(Repository.id).limit(1))
        when = dt.datetime(2026, 10, 20, 8, tzinfo=dt.timezone.utc)
        store.store_commits(s, repo, [rec.Commit(sha="f" * 40, author_name="新人", author_email="newcomer@example.org",
                                                 author_login=None, author_time=when, committer_name="新人",
                                                 committer_email="newcomer@example.org", committer_login=None,
                                                 committer_time=when, is_merge=False, is_bot=False,
                                                 message_title="late work")])
    ok(capsys, url, "people", "resolve")
    grown = live()
    assert grown[slug]["contributor_count"]["value"] == before[slug]["contributor_count"]["value"] + 1
    with dbm.get_engine(url).connect() as conn:
        a, b = conn.execute(text("SELECT min(email), max(email) FROM commit_identities WHERE email LIKE '%@%' "
                                 "AND person_id IS NOT NULL")).one()
    ok(capsys, url, "people", "merge", a, b, "--reason", "test")
    again = json.loads(ok(capsys, url, "rounds", "show", "1", "--json"))["candidates"]
    assert [c["signals"] for c in again] == [c["signals"] for c in frozen]  # ... the round did not
    for candidate in frozen:
        if candidate["check_status"] == "passed":
            assert candidate["signals"]["contributor_count"]["value"] == \
                before[candidate["community"]]["contributor_count"]["value"]
        else:
            assert candidate["signals"] == {}


def test_a_bad_sheet_is_refused_whole_and_a_good_one_twice_equals_once(capsys, sample_url, tmp_path):
    url = sample_url
    make_round(capsys, url, min_experts=1)
    applied_and_checked(capsys, url)
    for name in EXPERTS[:2]:
        ok(capsys, url, "users", "add", name, "--role", "evaluator", "--password-env", "MTX_TEST_EXPERT_PASSWORD")
        ok(capsys, url, "rounds", "experts", "add", "1", name)
    ok(capsys, url, "rounds", "freeze", "1")
    sheet = tmp_path / "sheet.xlsx"
    ok(capsys, url, "rounds", "scoresheet", "1", EXPERTS[0], str(sheet))
    ok(capsys, url, "rounds", "conflict", "1", EXPERTS[0], CANDIDATES[2], "--reason", "近亲属在申报单位任职")
    good = tmp_path / "good.xlsx"
    fill_sheet(sheet, good, {"expert_focus_field_demonstration": 4, "expert_governance_licence": 3,
                             "expert_documentation": 5, "expert_community_building": 1.5}, comment="好")
    # the old sheet still lists CANDIDATES[2], now conflicted: its filled row is one of the problems
    bad = tmp_path / "bad.xlsx"
    wb = load_workbook(good)
    ws = wb["评分表"]
    ws["D2"] = 6            # out of range (0-5), row 2 = CANDIDATES[0]
    ws["E3"] = "优秀"        # text in a number cell, row 3 = CANDIDATES[1]
    ws["I1"] = "加分项"       # a column that is not the model's
    wb.save(bad)
    code, out, err = mtx(capsys, url, "rounds", "import-scores", "1", EXPERTS[0], str(bad), "--json")
    assert code == 1
    issues = json.loads(out)["issues"]
    found = {(i["row"], i["code"]) for i in issues}
    assert found == {(2, "cell.out_of_range"), (3, "cell.not_a_number"), (1, "sheet.unknown_column"),
                     (4, "row.conflicted")}, issues
    assert next(i for i in issues if i["code"] == "cell.out_of_range")["column"].startswith("重点领域示范价值")
    with dbm.session_scope(url) as s:
        assert s.scalars(select(ExpertScore)).all() == []  # nothing written

    def scores():
        with dbm.session_scope(url) as s:
            return sorted((x.candidate_id, x.expert, x.signal, x.score, x.comment) for x in s.scalars(select(ExpertScore)))

    wb = load_workbook(good)
    wb["评分表"].delete_rows(4)  # the conflicted candidate's row goes
    wb.save(good)
    out = ok(capsys, url, "rounds", "import-scores", "1", EXPERTS[0], str(good))
    once = scores()
    assert len(once) == 4 * 4 and {x[3] for x in once} == {4, 3, 5, 1.5}
    ok(capsys, url, "rounds", "import-scores", "1", EXPERTS[0], str(good))
    assert scores() == once
    dry = ok(capsys, url, "rounds", "import-scores", "1", EXPERTS[0], str(good), "--dry-run")
    assert "dry run" in dry and scores() == once
