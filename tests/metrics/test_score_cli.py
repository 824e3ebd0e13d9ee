"""`mtx score` and `mtx metrics` through the command, on the scale-1 sample: the quantitative part on its own points,
the round trip through the CSV that `mtx score-signals` reads, peers and --explain, the errors a user can make."""
from __future__ import annotations

import csv
import io
import json
import statistics
from pathlib import Path

import pytest

from tracker.cli import main
from tracker.scoring.loading import PRESETS_DIR, load_model_file

CONFIG = Path(__file__).resolve().parents[2] / "config"
AS_OF = "2026-10-31"
MANTIANXING = load_model_file(PRESETS_DIR / "mantianxing.yaml")


def mtx(capsys, url: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", url, "--config", str(CONFIG), "--as", "office", *args])
    out, err = capsys.readouterr()
    return code, out, err


def metrics_json(capsys, url: str, *args: str) -> dict[str, dict]:
    code, out, err = mtx(capsys, url, "metrics", "--as-of", AS_OF, "--format", "json", *args)
    assert code == 0, err
    return {entry["community"]: entry["signals"] for entry in json.loads(out)}


def score_json(capsys, url: str, *args: str) -> dict:
    code, out, err = mtx(capsys, url, "score", "--as-of", AS_OF, "--json", *args)
    assert code == 0, err
    return json.loads(out)


def test_the_live_score_is_the_quantitative_part_on_its_own_points(capsys, sample_db_url):
    data = score_json(capsys, sample_db_url)
    values = metrics_json(capsys, sample_db_url)
    quantitative = [s for s in MANTIANXING.signals if not s.name.startswith("expert_")]
    assert data["part"] == "quantitative" and data["max_score"] == 70  # mantianxing: 70 of 100 points from data
    assert data["pending"] == [s.name for s in MANTIANXING.signals if s.name.startswith("expert_")]
    assert len(data["results"]) == 13  # the demo's 12 communities and the integrity case
    for result in data["results"]:
        signals = result["signals"]
        assert set(signals) == {s.name for s in quantitative}  # expert ratings are pending, not zero
        for s in quantitative:
            assert signals[s.name]["max_points"] == s.weight  # weights are points in this model
            assert signals[s.name]["value"] == values[result["name"]][s.name]["value"]
        # linear signals, computed here from the model's words: points = weight x share of the way to the threshold
        v = values[result["name"]]
        assert signals["top_org_commit_share"]["points"] == pytest.approx(5 * (1 - v["top_org_commit_share"]["value"]),
                                                                          abs=0.006)
        assert signals["chongqing_commit_share"]["points"] == pytest.approx(
            7 * min(v["chongqing_commit_share"]["value"], 0.5) / 0.5, abs=0.006)
        assert signals["updated_since"]["points"] == pytest.approx(
            4 * (12 - min(v["updated_since"]["value"], 12)) / 12, abs=0.006)
        present = sum(s.weight for s in quantitative if v[s.name]["value"] is not None)
        assert result["coverage"] == pytest.approx(present / 70, abs=1e-4)
        # each point figure is rounded to 2 decimals: 14 of them may drift by up to 14 x 0.005 from the total
        assert result["score"] == pytest.approx(sum(x["points"] for x in signals.values()), abs=0.07)
        assert result["status"] == ("ranked" if present / 70 >= 0.6 else "unavailable")
        assert signals["dependents_count"]["reason"] == "no source" and signals["dependents_count"]["points"] == 0
    ranked = [r for r in data["results"] if r["status"] == "ranked"]
    assert [r["rank"] for r in ranked] == sorted(r["rank"] for r in ranked)
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)


def test_the_text_says_the_expert_part_is_pending(capsys, sample_db_url):
    code, out, _ = mtx(capsys, sample_db_url, "score", "--as-of", AS_OF)
    assert code == 0
    assert "待评审" in out and "0–70" in out and "expert_documentation" in out
    assert out.splitlines()[3].split()[0] == "1"  # the ranking starts after the header lines


@pytest.mark.parametrize("model", ["criticality-pike", "criticality-legacy", "compass-activity", "mantianxing"])
def test_metrics_csv_scored_by_score_signals_gives_the_live_scores(capsys, sample_db_url, tmp_path, model):
    code, out, err = mtx(capsys, sample_db_url, "metrics", "--as-of", AS_OF, "--format", "csv", "--model", model)
    assert code == 0, err
    path = tmp_path / "signals.csv"
    path.write_text(out, encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(out)))
    values = metrics_json(capsys, sample_db_url, "--model", model)
    for row in rows:  # the file holds exactly the metrics, in full precision; missing is an empty cell
        for name, cell in row.items():
            if name != "name":
                expected = values[row["name"]][name]["value"]
                assert (cell == "" and expected is None) or float(cell) == expected
    code, out, err = mtx(capsys, sample_db_url, "score-signals", str(path), "--model", model, "--json")
    assert code == 0, err
    table = {r["name"]: r for r in json.loads(out)["results"]}
    live = score_json(capsys, sample_db_url, "--model", model)
    assert json.loads(out)["model"] == live["model"]  # same model identity
    for result in live["results"]:
        other = table[result["name"]]
        if model != "mantianxing":  # every signal quantitative: the same table, the same scores and ranks
            assert (other["score"], other["rank"], other["coverage"]) == (result["score"], result["rank"],
                                                                          result["coverage"])
        elif other["status"] == result["status"] == "ranked":
            # scored whole, the empty expert columns earn nothing: the same points out of 100
            assert other["score"] == pytest.approx(result["score"], abs=0.011)


def test_focus_ranks_within_one_field(capsys, sample_db_url):
    everyone = score_json(capsys, sample_db_url)
    education = score_json(capsys, sample_db_url, "--focus", "education")
    code, out, _ = mtx(capsys, sample_db_url, "status", "--communities", "--json")
    fields = {c["slug"]: c["focus"] for c in json.loads(out)}
    expected = sorted((r for r in everyone["results"] if fields[r["name"]] == "education" and r["status"] == "ranked"),
                      key=lambda r: -r["score"])
    assert [r["name"] for r in education["results"] if r["status"] == "ranked"] == [r["name"] for r in expected]
    assert [r["rank"] for r in education["results"] if r["status"] == "ranked"] == list(range(1, len(expected) + 1))


def test_explain_compares_with_the_peers_of_the_same_field(capsys, sample_db_url):
    values = metrics_json(capsys, sample_db_url)
    code, out, _ = mtx(capsys, sample_db_url, "status", "--communities", "--json")
    fields = {c["slug"]: c["focus"] for c in json.loads(out)}
    me = "bayu-edu"
    peers = [c for c in fields if fields[c] == fields[me] and c != me]
    assert len(peers) == 2
    explained = json.loads(mtx(capsys, sample_db_url, "score", "--as-of", AS_OF, "--explain", me, "--json")[1])
    assert explained["peers"] == 2
    [mine] = explained["results"]
    for s in MANTIANXING.signals:
        if s.name.startswith("expert_"):
            continue
        own = values[me][s.name]["value"]
        others = [values[p][s.name]["value"] for p in peers if values[p][s.name]["value"] is not None]
        if own is None or not others:
            assert mine["signals"][s.name]["percentile"] is None
            continue
        smaller = s.direction.value == "smaller_is_better"
        worse = sum(1 for o in others if (o > own if smaller else o < own))
        ties = sum(1 for o in others if o == own)
        assert mine["signals"][s.name]["percentile"] == pytest.approx((worse + ties / 2) / len(others), abs=1e-4), s.name
    # the gaps: points below the peers' median, largest first, from the scores of everyone
    everyone = {r["name"]: r for r in score_json(capsys, sample_db_url)["results"]}
    gaps = []
    for name, signal in everyone[me]["signals"].items():
        peer_points = [everyone[p]["signals"][name]["points"] for p in peers if values[p][name]["value"] is not None]
        if peer_points and statistics.median(peer_points) - signal["points"] > 0.005:
            gaps.append((statistics.median(peer_points) - signal["points"], name))
    expected = [name for _, name in sorted(gaps, reverse=True)[:3]]
    assert [g["signal"] for g in explained["gaps"]] == expected
    code, text, _ = mtx(capsys, sample_db_url, "score", "--as-of", AS_OF, "--explain", me)
    assert code == 0 and "同领域对比" in text and "最值得改进" in text
    for name in expected:
        assert name in text.split("最值得改进")[1]


@pytest.mark.parametrize("args, code, words", [
    (["score", "--explain", "no-such"], 1, "no-such"),
    (["metrics", "--community", "no-such"], 1, "no-such"),
    (["metrics", "--as-of", "2099-01-01"], 1, "future"),
    (["metrics", "--as-of", "31/10/2026"], 2, "YYYY-MM-DD"),
    (["metrics", "--format", "xml"], 2, "table, csv or json"),
    (["metrics", "--by", "person"], 2, "community or repository"),
    (["score", "--focus", "mars"], 2, "automotive"),
    (["score", "--model", "no-such-model"], 1, "mantianxing"),
])
def test_bad_requests_are_refused_with_the_fix(capsys, sample_db_url, args, code, words):
    got, out, err = mtx(capsys, sample_db_url, *args)
    assert got == code and words in err, err


def test_the_default_as_of_is_the_last_day_the_collection_covers(capsys, sample_db_url):
    # the sample was collected at 2026-11-01 01:00 Beijing time, long ago: its last full day is 2026-10-31
    code, out, err = mtx(capsys, sample_db_url, "metrics", "--format", "json")
    assert code == 0 and {e["as_of"] for e in json.loads(out)} == {AS_OF}
    code, out, err = mtx(capsys, sample_db_url, "metrics", "--community", "bayu-edu")
    assert code == 0 and "2026-10-31" in out.splitlines()[0] and "贡献者数 contributor_count" in out
    assert "无数据来源 / no source" in out  # dependents_count, said in words


def test_a_later_as_of_is_not_collected_rather_than_zero(capsys, sample_db_url):
    later = metrics_json(capsys, sample_db_url, "--as-of", "2026-11-15")  # overrides the AS_OF given first
    assert later["bayu-edu"]["contributor_count"] == {"value": None, "reason": "not collected", "repositories": 3,
                                                     "window": 365}


def test_rebuild_gives_the_same_numbers(capsys, sample_db_url):
    before = metrics_json(capsys, sample_db_url)
    code, out, err = mtx(capsys, sample_db_url, "metrics", "--rebuild", "--as-of", AS_OF, "--format", "json")
    assert code == 0 and "rebuilt" in err
    assert {e["community"]: e["signals"] for e in json.loads(out)} == before


def test_reading_whole_tables_gives_what_in_lists_give(capsys, sample_db_url, monkeypatch):
    """Past facts.WHOLE_TABLE repositories, metrics read each table once instead of by IN lists (scale 100 has
    10,000 repositories); force that path on the sample and compare, by community and by repository."""
    from tracker.metrics import facts

    by_lists = metrics_json(capsys, sample_db_url)
    code, out, _ = mtx(capsys, sample_db_url, "metrics", "--as-of", AS_OF, "--format", "json", "--by", "repository")
    repositories = json.loads(out)
    monkeypatch.setattr(facts, "WHOLE_TABLE", 0)
    assert metrics_json(capsys, sample_db_url) == by_lists
    code, out, _ = mtx(capsys, sample_db_url, "metrics", "--as-of", AS_OF, "--format", "json", "--by", "repository")
    assert json.loads(out) == repositories and len(repositories) == 42  # 40, and the integrity case's 2


def test_a_repository_no_longer_collected_counts_with_what_was_collected(capsys, sample_db_url):
    """A stale stream makes the signal 'not collected'; once the repository is gone, or its organisation no longer
    lists it (the job stops collecting it), what was collected stands."""
    from sqlalchemy import create_engine, text

    before = metrics_json(capsys, sample_db_url)["bayu-edu"]
    engine = create_engine(sample_db_url)
    with engine.begin() as conn:
        rid = conn.execute(text("SELECT r.id FROM repositories r JOIN community_repositories l ON l.repository_id = r.id "
                                "JOIN communities c ON c.id = l.community_id WHERE c.slug = 'bayu-edu' "
                                "AND r.platform = 'gitlab'")).scalar()
        conn.execute(text("UPDATE collection_streams SET last_success_at = '2026-10-01 00:00:00.000000' "
                          "WHERE repository_id = :r"), {"r": rid})
    stale = metrics_json(capsys, sample_db_url)["bayu-edu"]
    assert stale["closed_issues_count"]["reason"] == "not collected" and stale["closed_issues_count"]["value"] is None
    assert stale["contributor_count"]["reason"] == "not collected"
    for column, value in (("missing_since", "'2026-10-15 00:00:00.000000'"), ("state", "'gone'")):
        with engine.begin() as conn:
            conn.execute(text("UPDATE repositories SET missing_since = NULL, state = 'active' WHERE id = :r"), {"r": rid})
            conn.execute(text(f"UPDATE repositories SET {column} = {value} WHERE id = :r"), {"r": rid})
        assert metrics_json(capsys, sample_db_url)["bayu-edu"] == before, column
    engine.dispose()
