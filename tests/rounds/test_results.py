"""Issue 19 through `mtx rounds`: results with each aggregation computed by hand here, the ranking, allocation, the
committee's decision, 公示 with an upheld objection, finalise, and exports that come out the same every time."""
from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.rounds.test_lifecycle import EXPERTS, PASSWORD, ledger_usccs, ok, refused, status
from tracker.sample import build_sample
from tracker.scoring.loading import PRESETS_DIR, load_model_file

pytestmark = pytest.mark.postgres

MODEL = load_model_file(PRESETS_DIR / "mantianxing.yaml")
EXPERT_SIGNALS = [s for s in MODEL.signals if s.name.startswith("expert_")]
# six applications, in this order: two sample communities, twin-b and twin-a (one and the same repository: a tie the
# earlier application breaks), stale-c (its repository never collected: below the model's coverage), and one that
# fails the formal check (no USCC)
APPLIED = ["bayu-edu", "cq-gov-data", "twin-b", "twin-a", "stale-c", "liangjiang-adas"]
PASSED = APPLIED[:5]
FAILING = APPLIED[5]
CONFLICT = (EXPERTS[0], "cq-gov-data")  # expert1 withdraws from cq-gov-data before scoring
BASE = {"bayu-edu": 4.5, "cq-gov-data": 4.0, "twin-b": 3.5, "twin-a": 3.5, "stale-c": 3.0}
SPREAD = [-2.0, -0.5, 0.0, 0.0, 0.5, 0.5, 0.5]  # the first signal: a wide spread (flagged where max - min > 2)
NARROW = [-0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 0.5]


def rating(expert: int, slug: str, signal: int) -> float:
    offsets = SPREAD if signal == 0 else NARROW
    return min(5.0, max(0.0, BASE[slug] + offsets[expert]))


def aggregate(values: list[float], how: str) -> float:
    """The definitions, written here: mean; trimmed drops one highest and one lowest from 5 or more; median."""
    if how == "median":
        return statistics.median(values)
    if how == "trimmed" and len(values) >= 5:
        values = sorted(values)[1:-1]
    return sum(values) / len(values)


def add_twins_and_stale(url) -> None:
    from sqlalchemy import select

    from tracker import db as dbm
    from tracker.models import Community, CommunityRepository, Repository

    with dbm.session_scope(url) as s:
        shared = s.scalar(select(Repository).where(Repository.platform == "gitee", Repository.licence.is_not(None))
                          .order_by(Repository.id).limit(1))
        never = Repository(platform="github", api_url="https://api.github.com", path="example/never-collected",
                           licence="MIT", state="active")
        s.add(never)
        s.flush()
        for slug, repo in (("twin-a", shared), ("twin-b", shared), ("stale-c", never)):
            community = Community(slug=slug, name_zh=f"{slug}（测试）", focus="education")
            s.add(community)
            s.flush()
            s.add(CommunityRepository(community_id=community.id, repository_id=repo.id))


@pytest.fixture
def scored_round(db_url, capsys, tmp_path, monkeypatch, request):
    monkeypatch.setenv("MTX_TEST_EXPERT_PASSWORD", PASSWORD)
    build_sample(db_url, scale=1)
    add_twins_and_stale(db_url)
    how = request.param
    ok(capsys, db_url, "rounds", "create", "--year", "2026", "--name", f"特色开源社区-{how}", "--cutoff",
       "2026-10-31", "--budget", "6000000", "--max-award", "2000000", "--aggregation", how)
    ok(capsys, db_url, "rounds", "open", "1")
    usccs = ledger_usccs(db_url)
    for n, slug in enumerate(PASSED):
        ok(capsys, db_url, "rounds", "apply", "1", slug, "--applicant", f"申报单位{n}", "--enterprise", usccs[n])
        ok(capsys, db_url, "rounds", "check", "1", slug, "--pass")
    ok(capsys, db_url, "rounds", "apply", "1", FAILING, "--applicant", "未填代码的单位")
    ok(capsys, db_url, "rounds", "check", "1", FAILING, "--fail", "--reason", "未提供统一社会信用代码")
    ok(capsys, db_url, "rounds", "close-check", "1")
    for name in EXPERTS:
        ok(capsys, db_url, "users", "add", name, "--role", "evaluator", "--password-env", "MTX_TEST_EXPERT_PASSWORD")
        ok(capsys, db_url, "rounds", "experts", "add", "1", name)
    ok(capsys, db_url, "rounds", "freeze", "1")
    ok(capsys, db_url, "rounds", "conflict", "1", *CONFLICT, "--reason", "近三年曾为申报单位提供咨询")
    for e, name in enumerate(EXPERTS):
        sheet = tmp_path / f"{name}.xlsx"
        ok(capsys, db_url, "rounds", "scoresheet", "1", name, str(sheet))
        wb = load_workbook(sheet)
        ws = wb["评分表"]
        headers = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            slug = row[0].value
            for cell, header in zip(row, headers):
                for k, signal in enumerate(EXPERT_SIGNALS):
                    if header and signal.name in header:
                        cell.value = rating(e, slug, k)
        wb.save(sheet)
        ok(capsys, db_url, "rounds", "import-scores", "1", name, str(sheet))
    provisional = json.loads(ok(capsys, db_url, "rounds", "results", "1", "--json"))
    ok(capsys, db_url, "rounds", "close-scoring", "1")
    return db_url, how, provisional


@pytest.mark.parametrize("scored_round", ["mean", "trimmed", "median"], indirect=True)
def test_results_by_hand_allocation_decision_publicity_and_exports(capsys, scored_round, tmp_path):
    url, how, provisional = scored_round
    data = json.loads(ok(capsys, url, "rounds", "results", "1", "--json"))
    assert data["round"]["aggregation"] == how and data["round"]["provisional"] is False
    assert provisional["round"]["provisional"] is True
    assert [r["total"] for r in provisional["results"]] == [r["total"] for r in data["results"]]
    live = {r["name"]: r for r in json.loads(ok(capsys, url, "score", "--as-of", "2026-10-31", "--json"))["results"]}
    by = {r["community"]: r for r in data["results"]}
    assert by[FAILING]["status"] == "failed_check" and by[FAILING]["rank"] is None
    expected_totals = {}
    for slug in PASSED:
        experts = [e for e in range(7) if (EXPERTS[e], slug) != CONFLICT]
        points = 0.0
        for k, signal in enumerate(EXPERT_SIGNALS):
            given = [rating(e, slug, k) for e in experts]
            value = aggregate(given, how)
            got = by[slug]["expert"][signal.name]
            assert got["value"] == pytest.approx(value, abs=1e-6), (slug, signal.name)
            assert got["experts"] == len(given)
            assert got["flagged"] == (max(given) - min(given) > 0.4 * signal.threshold)
            points += signal.weight * min(value, signal.threshold) / signal.threshold
        quantitative = sum(s["points"] for s in live[slug]["signals"].values())  # verified in tests/metrics
        assert by[slug]["quantitative"] == pytest.approx(quantitative, abs=0.07)
        assert by[slug]["expert_points"] == pytest.approx(points, abs=0.006)
        expected_totals[slug] = by[slug]["quantitative"] + points
        if slug != "stale-c":  # unavailable: no total at all (below)
            assert by[slug]["total"] == pytest.approx(expected_totals[slug], abs=0.011)
        present = 30 + sum(s.weight for s in MODEL.signals if not s.name.startswith("expert_")
                           and live[slug]["signals"][s.name]["value"] is not None)
        assert by[slug]["coverage"] == pytest.approx(present / 100, abs=1e-4)
    # stale-c: only the expert part (30 of 100) present -> coverage 0.30 < 0.60: unavailable, never ranked
    assert by["stale-c"]["coverage"] == pytest.approx(0.30) and by["stale-c"]["quantitative"] == 0
    assert by["stale-c"]["status"] == "unavailable" and by["stale-c"]["rank"] is None
    assert by["stale-c"]["total"] is None
    # the twins tie on total, expert part and coverage: twin-b applied first and ranks first
    assert [by["twin-a"][k] for k in ("total", "expert_points", "coverage")] == \
        [by["twin-b"][k] for k in ("total", "expert_points", "coverage")]
    ranked = [s for s in PASSED if s != "stale-c"]
    assert all(by[s]["status"] == "ranked" for s in ranked)
    order = sorted(ranked, key=lambda s: (-by[s]["total"], -by[s]["expert_points"], -by[s]["coverage"],
                                          APPLIED.index(s)))
    assert order.index("twin-b") == order.index("twin-a") - 1
    assert [r["community"] for r in data["results"][:4]] == order
    assert [by[s]["rank"] for s in order] == [1, 2, 3, 4]

    again = json.loads(ok(capsys, url, "rounds", "results", "1", "--json"))
    assert again == data  # recomputed from what the round stored: the same results

    # allocation: tiers from the top as far as the budget goes
    refused(capsys, url, "rounds", "allocate", "1", "--rule", "tiers", "--tiers", "3000000", words="max award")
    ok(capsys, url, "rounds", "allocate", "1", "--rule", "tiers", "--tiers", "2000000,1000000,500000")
    amounts = {r["community"]: r["amount"] for r in json.loads(ok(capsys, url, "rounds", "results", "1",
                                                                  "--json"))["results"]}
    assert [amounts[s] for s in order] == [2_000_000, 1_000_000, 500_000, None]
    assert amounts[FAILING] is None and amounts["stale-c"] is None

    # the committee: minutes kept with the round, a changed amount needs a reason and stays within the rules
    minutes = tmp_path / "纪要.pdf"
    minutes.write_bytes(b"%PDF-1.4 committee minutes")
    refused(capsys, url, "rounds", "decide", "1", "--minutes", str(minutes), "--amount", f"{order[2]}=800000",
            words="--reason")
    refused(capsys, url, "rounds", "decide", "1", "--minutes", str(minutes), "--amount", f"{order[0]}=2500000",
            "--reason", "x", words="maximum")
    refused(capsys, url, "rounds", "decide", "1", "--minutes", str(minutes), "--amount", f"{FAILING}=100000",
            "--reason", "x", words="only ranked")
    refused(capsys, url, "rounds", "decide", "1", "--minutes", str(minutes), "--amount", "stale-c=100000",
            "--reason", "x", words="only ranked")
    ok(capsys, url, "rounds", "decide", "1", "--minutes", str(minutes), "--amount", f"{order[2]}=800000",
       "--reason", "示范性突出，集体研究上调")
    assert status(url) == "decided"

    # 公示 and an objection: anonymous refused; upheld returns the round to decided
    ok(capsys, url, "rounds", "publicise", "1", "--start", "2026-11-01")
    evidence = tmp_path / "证据.pdf"
    evidence.write_bytes(b"%PDF-1.4 evidence")
    refused(capsys, url, "rounds", "objection", "add", "1", "--from", "匿名", "--unit", "某单位", "--contact", "138",
            "--evidence", str(evidence), "--text", "有异议", words="anonymous")
    ok(capsys, url, "rounds", "objection", "add", "1", "--from", "张三", "--unit", "某大学", "--contact",
       "13800000000", "--evidence", str(evidence), "--text", "提交记录中有刷量")
    refused(capsys, url, "rounds", "finalise", "1", words="open")
    ok(capsys, url, "rounds", "objection", "resolve", "1", "1", "--upheld", "--reason", "经核实部分属实")
    assert status(url) == "decided"
    ok(capsys, url, "rounds", "decide", "1", "--minutes", str(minutes), "--amount", f"{order[2]}=500000",
       "--reason", "异议成立，恢复规则金额")
    ok(capsys, url, "rounds", "publicise", "1", "--start", "2026-11-10")
    ok(capsys, url, "rounds", "finalise", "1")
    assert status(url) == "final"

    # exports: the same cell values every time (and the public list holds only ranked candidates)
    def cells(path: Path):
        if path.suffix == ".csv":
            return list(csv.reader(path.open(encoding="utf-8-sig")))
        return [[list(row) for row in ws.iter_rows(values_only=True)] for ws in load_workbook(path).worksheets]

    for name in ("公示名单.xlsx", "公示名单.csv"):
        first, second = tmp_path / f"a-{name}", tmp_path / f"b-{name}"
        ok(capsys, url, "rounds", "export", "1", str(first))
        ok(capsys, url, "rounds", "export", "1", str(second))
        assert cells(first) == cells(second)
    public = cells(tmp_path / "a-公示名单.csv")
    assert [row[1] for row in public[1:]] == order
    assert [int(row[5]) for row in public[1:]] == [2_000_000, 1_000_000, 500_000, 0]
    ok(capsys, url, "rounds", "workbook", "1", str(tmp_path / "a.xlsx"))
    ok(capsys, url, "rounds", "workbook", "1", str(tmp_path / "b.xlsx"))
    assert cells(tmp_path / "a.xlsx") == cells(tmp_path / "b.xlsx")
    titles = load_workbook(tmp_path / "a.xlsx").sheetnames
    assert titles == ["形式审查", "专家与回避", "专家评分", "汇总结果", "资金分配与集体研究", "异议", "过程记录"]


def test_the_integrity_flags_reach_the_committee(capsys, db_url, monkeypatch):
    """The sample's chaotianmen-widgets is built to trip all three flags (tests/rounds/test_integrity.py computes them
    independently); frozen with the round, they are shown in its results and change no score."""
    build_sample(db_url, scale=1)
    usccs = ledger_usccs(db_url)
    ok(capsys, db_url, "rounds", "create", "--year", "2026", "--name", "提示", "--cutoff", "2026-10-31",
       "--budget", "6000000", "--max-award", "2000000", "--min-experts", "1")
    ok(capsys, db_url, "rounds", "open", "1")
    for n, slug in enumerate(("chaotianmen-widgets", "bayu-edu")):
        ok(capsys, db_url, "rounds", "apply", "1", slug, "--applicant", f"单位{n}", "--enterprise", usccs[n])
        ok(capsys, db_url, "rounds", "check", "1", slug, "--pass")
    ok(capsys, db_url, "rounds", "close-check", "1")
    ok(capsys, db_url, "rounds", "freeze", "1")
    results = {r["community"]: r for r in json.loads(ok(capsys, db_url, "rounds", "results", "1", "--json"))["results"]}
    assert [f["code"] for f in results["chaotianmen-widgets"]["flags"]] == ["commit_burst", "newcomer_commits",
                                                                            "star_jump"]
    assert results["bayu-edu"]["flags"] == []
    live = {r["name"]: r for r in json.loads(ok(capsys, db_url, "score", "--as-of", "2026-10-31", "--json"))["results"]}
    quantitative = sum(s["points"] for s in live["chaotianmen-widgets"]["signals"].values())
    assert results["chaotianmen-widgets"]["quantitative"] == pytest.approx(quantitative, abs=0.07)  # no score change
