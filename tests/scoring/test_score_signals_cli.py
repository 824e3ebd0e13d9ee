"""`mtx score-signals`: reading the CSV, the two outputs, and user-fixable errors (exit code 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scoring.conftest import CONFIG_DIR, DATA_DIR, load_preset
from tracker.scoring import model_hash
from tracker.scoring.cli import score_signals_command

PIKE_HEADER = ("name,created_since,updated_since,contributor_count,org_count,commit_frequency,recent_releases_count,"
               "updated_issues_count,closed_issues_count,comment_frequency,dependents_count")


def write(tmp_path: Path, text: str, name: str = "signals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys, model: str, csv_path: Path, as_json: bool = False) -> tuple[int, str, str]:
    code = score_signals_command(model, csv_path, as_json, CONFIG_DIR)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_matches_published_go_scores_and_carries_model_identity(tmp_path, capsys):
    csv_path = write(tmp_path, PIKE_HEADER + "\n"
                     "Alan32Liu/github-scarecrow,14,9,1,1,0.12,0,2,2,0,0\n"
                     "trungdq88/Awesome-Black-Friday-Cyber-Monday,0,0,274,7,17.19,0,356,344,0.19,2\n")
    code, out, err = run(capsys, "criticality-pike", csv_path, as_json=True)
    assert (code, err) == (0, "")
    data = json.loads(out)  # the shape of `mtx score --json`: the model's identity once, then the results
    assert data["model"] == {"name": "criticality-pike", "hash": model_hash(load_preset("criticality-pike"))}
    assert data["part"] == "all" and data["pending"] == []
    rows = data["results"]
    assert [(r["name"], r["score"], r["rank"]) for r in rows] == [
        ("trungdq88/Awesome-Black-Friday-Cyber-Monday", 0.43088, 1), ("Alan32Liu/github-scarecrow", 0.20436, 2)]
    first = rows[0]
    assert set(first) == {"name", "rank", "score", "coverage", "status", "reason", "signals"}
    assert first["coverage"] == 1.0 and first["status"] == "ranked"
    assert sum(s["points"] for s in first["signals"].values()) == pytest.approx(0.43088, abs=5e-5)
    assert first["signals"]["contributor_count"]["value"] == 274  # as its row says
    # two rows, so the other one is the only peer: 0 months old against 14 (bigger is better): the peer is not worse;
    # updated 0 months ago against 9 (smaller is better): the peer is worse
    assert first["signals"]["created_since"]["percentile"] == 0.0
    assert first["signals"]["updated_since"]["percentile"] == 1.0


def test_text_output_is_a_ranked_table_with_unavailable_rows_last(tmp_path, capsys):
    csv_path = write(tmp_path, "name,contributor_count,org_count,star_count,expert_documentation\n"
                     "示例社区甲,40,5,900,4\n"
                     "Example B,200,12,3000,5\n")
    code, out, err = run(capsys, "mantianxing", csv_path)
    assert code == 0
    assert "no column for signal 'commit_frequency'" in err
    lines = out.splitlines()
    assert lines[0].startswith("model mantianxing (sha256 ") and "scale 0-100" in lines[0]
    assert lines[1].split() == ["rank", "name", "score", "coverage", "note"]
    assert lines[2].split()[:2] == ["-", "Example"] and "unavailable" not in lines[2]
    assert "below the model's minimum 60%" in lines[2] and "below the model's minimum 60%" in lines[3]


def test_ranked_text_table_orders_by_score(tmp_path, capsys):
    rows = [line for line in (DATA_DIR / "criticality_pike_published.csv").read_text(encoding="utf-8").splitlines()]
    code, out, _ = run(capsys, "criticality-pike", write(tmp_path, "\n".join(rows[:6]) + "\n"))
    assert code == 0
    body = [line.split() for line in out.splitlines()[2:]]
    assert [cells[0] for cells in body] == ["1", "2", "2", "4", "4"]  # pairs tie at 0.13958 and 0.13907
    assert body[0][1:3] == ["trungdq88/Awesome-Black-Friday-Cyber-Monday", "0.43088"]


def test_empty_cells_are_missing_and_unknown_columns_warn(tmp_path, capsys):
    csv_path = write(tmp_path, PIKE_HEADER + ",stars\nx,10,,3,1,,,,,,,99\n")
    code, out, err = run(capsys, "criticality-pike", csv_path, as_json=True)
    assert code == 0
    assert "column 'stars' (column L) is not a signal of model 'criticality-pike'; it is ignored" in err
    [row] = json.loads(out)["results"]
    assert row["coverage"] == pytest.approx(4 / 10.5, abs=1e-4)
    assert row["signals"]["updated_since"]["value"] is None and row["signals"]["updated_since"]["reason"] == "missing"
    assert row["signals"]["org_count"]["value"] == 1


def test_non_numeric_value_names_row_and_column(tmp_path, capsys):
    csv_path = write(tmp_path, PIKE_HEADER + "\nok,1,1,1,1,1,1,1,1,1,1\nbad,12,3,1.2k,1,1,1,1,1,1,1\n")
    code, out, err = run(capsys, "criticality-pike", csv_path)
    assert (code, out) == (1, "")
    assert "row 3, column 'contributor_count' (column D): '1.2k' is not a number" in err
    assert "Fix:" in err


def test_missing_name_column_is_an_error(tmp_path, capsys):
    code, _, err = run(capsys, "criticality-pike", write(tmp_path, "project,org_count\nx,1\n"))
    assert code == 1 and "no 'name' column" in err


def test_empty_name_is_an_error(tmp_path, capsys):
    code, _, err = run(capsys, "criticality-pike", write(tmp_path, "name,org_count\nx,1\n,2\n"))
    assert code == 1 and "row 3, column 'name' (column A) is empty" in err


def test_infinite_value_is_an_error(tmp_path, capsys):
    code, _, err = run(capsys, "criticality-pike", write(tmp_path, "name,org_count\nx,inf\n"))
    assert code == 1 and "row 2, column 'org_count'" in err


def test_unknown_model_is_a_user_error(tmp_path, capsys):
    code, _, err = run(capsys, "no-such-model", write(tmp_path, "name\nx\n"))
    assert code == 1 and "unknown model 'no-such-model'" in err and "mantianxing" in err


def test_missing_csv_file_is_a_user_error(tmp_path, capsys):
    code, _, err = run(capsys, "mantianxing", tmp_path / "nope.csv")
    assert code == 1 and "file not found" in err


def test_model_given_as_a_file_path(tmp_path, capsys):
    code, out, _ = run(capsys, str(CONFIG_DIR / "criticality-legacy.yaml"),
                       write(tmp_path, "name,created_since,updated_since,contributor_count,org_count,commit_frequency,"
                             "recent_releases_count,closed_issues_count,updated_issues_count,comment_frequency,"
                             "dependents_count\ngit/git,150,0,1905,5,46.6,63,50,71,13.5,24127526\n"), as_json=True)
    assert code == 0 and json.loads(out)["results"][0]["score"] == 0.94426


def test_byte_order_mark_from_excel_is_accepted(tmp_path, capsys):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffname,org_count\nx,3\n".encode("utf-8"))
    code, out, _ = run(capsys, "criticality-pike", path, as_json=True)
    assert code == 0 and json.loads(out)["results"][0]["name"] == "x"
