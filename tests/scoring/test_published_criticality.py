"""Both criticality presets reproduce criticality_score's published scores to 5 decimals.

Rows: tests/scoring/data/*.csv, sources and commits in tests/scoring/data/README.md.
"""

from __future__ import annotations

import math

import pytest

from tests.scoring.conftest import published_rows
from tracker.scoring import score_signals

SIGNALS = [
    "created_since", "updated_since", "contributor_count", "org_count", "commit_frequency",
    "recent_releases_count", "closed_issues_count", "updated_issues_count", "comment_frequency",
    "dependents_count",
]
LEGACY_ROWS = published_rows("criticality_legacy_published.csv")
PIKE_ROWS = published_rows("criticality_pike_published.csv")


def values_of(row: dict[str, str]) -> dict[str, float]:
    return {name: float(row[name]) for name in SIGNALS}


def test_fixtures_hold_at_least_30_published_rows_each_with_updated_since_above_zero():
    assert len(LEGACY_ROWS) == 94
    assert len(PIKE_ROWS) == 30
    assert sum(float(r["updated_since"]) > 0 for r in LEGACY_ROWS) == 47
    assert sum(float(r["updated_since"]) > 0 for r in PIKE_ROWS) == 6


@pytest.mark.parametrize("row", LEGACY_ROWS, ids=lambda r: r["name"])
def test_legacy_preset_reproduces_published_python_score(legacy, row):
    result = score_signals(legacy, values_of(row), name=row["name"])
    assert f"{result.score:.5f}" == f"{float(row['published_score']):.5f}"


@pytest.mark.parametrize("row", PIKE_ROWS, ids=lambda r: r["name"])
def test_pike_preset_reproduces_published_go_score(pike, row):
    result = score_signals(pike, values_of(row), name=row["name"])
    assert f"{result.score:.5f}" == row["published_score"]


def test_legacy_hand_computed_with_updated_since_above_zero(legacy):
    values = dict(created_since=60, updated_since=6, contributor_count=10, org_count=2, commit_frequency=1,
                  recent_releases_count=3, closed_issues_count=20, updated_issues_count=40,
                  comment_frequency=1.5, dependents_count=100)
    by_hand = (math.log(61) / math.log(121) - math.log(7) / math.log(121) + 2 * math.log(11) / math.log(5001)
               + math.log(3) / math.log(11) + math.log(2) / math.log(1001) + 0.5 * math.log(4) / math.log(27)
               + 0.5 * math.log(21) / math.log(5001) + 0.5 * math.log(41) / math.log(5001)
               + math.log(2.5) / math.log(16) + 2 * math.log(101) / math.log(500001)) / 8.5
    result = score_signals(legacy, values)
    assert result.score == 0.37810 == round(by_hand, 5)
    assert result.contributions["updated_since"] == pytest.approx(-math.log(7) / math.log(121) / 8.5)


def test_legacy_signals_beyond_thresholds_saturate_and_updated_since_beyond_t_costs_full_weight(legacy):
    values = dict(created_since=300, updated_since=200, contributor_count=9000, org_count=40, commit_frequency=2000,
                  recent_releases_count=100, closed_issues_count=8000, updated_issues_count=9000,
                  comment_frequency=30, dependents_count=900000)
    result = score_signals(legacy, values)
    assert result.contributions["updated_since"] == pytest.approx(-1 / 8.5)
    assert result.score == 1.0  # (9.5 - 1) / 8.5


def test_legacy_score_above_one_is_clipped_but_raw_keeps_published_value(legacy):
    # ossf/criticality_score issue #68: kubernetes scored 1.01543 before the tool clipped to [0, 1].
    values = dict(created_since=80, updated_since=0, contributor_count=3708, org_count=10, commit_frequency=96.4,
                  recent_releases_count=79, closed_issues_count=2835, updated_issues_count=5065,
                  comment_frequency=5.6, dependents_count=424183)
    result = score_signals(legacy, values)
    assert round(result.raw_score, 5) == 1.01543
    assert result.score == 1.0


def test_pike_hand_computed_flip_and_thresholds(pike):
    values = dict(created_since=200, updated_since=30, contributor_count=6000, org_count=3, commit_frequency=0,
                  recent_releases_count=0, closed_issues_count=0, updated_issues_count=0,
                  comment_frequency=0, dependents_count=0)
    by_hand = (1 + math.log(91) / math.log(121) + 2 * 1 + math.log(4) / math.log(11)) / 10.5
    result = score_signals(pike, values)
    assert result.score == 0.43035 == round(by_hand, 5)
    assert result.contributions["created_since"] == pytest.approx(1 / 10.5)  # 200 > T=120 clamps to 1


def test_pike_updated_since_beyond_threshold_earns_nothing(pike):
    base = dict(created_since=12, contributor_count=5, org_count=1, commit_frequency=1,
                recent_releases_count=0, closed_issues_count=0, updated_issues_count=0,
                comment_frequency=0, dependents_count=0)
    stale = score_signals(pike, {**base, "updated_since": 500})
    at_threshold = score_signals(pike, {**base, "updated_since": 120})
    assert stale.contributions["updated_since"] == 0.0
    assert stale.score == at_threshold.score


def test_pike_drop_policy_raises_score_when_signals_fail_to_collect(pike):
    full = dict(created_since=200, updated_since=30, contributor_count=6000, org_count=3, commit_frequency=0,
                recent_releases_count=0, closed_issues_count=0, updated_issues_count=0,
                comment_frequency=0, dependents_count=0)
    partial = {k: full[k] for k in ("created_since", "updated_since", "contributor_count", "org_count")}
    by_hand = (1 + math.log(91) / math.log(121) + 2 + math.log(4) / math.log(11)) / 5
    dropped = score_signals(pike, partial)
    assert dropped.score == 0.90374 == round(by_hand, 5)
    assert dropped.score > score_signals(pike, full).score  # the documented flaw
    assert dropped.coverage == pytest.approx(5 / 10.5)
