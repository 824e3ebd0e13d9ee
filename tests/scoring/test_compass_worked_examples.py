"""The compass-activity hand-worked examples in docs/scoring.md, number by number.

Each expected number is written here as it appears in the document, and the test also checks
that the document still shows it, so the page and the engine cannot drift apart.
"""

from __future__ import annotations

import pytest

from tests.scoring.conftest import REPO
from tracker.scoring import normalisation_bounds, score_signals
from tracker.scoring.transforms import fraction, worst_fraction

DOC = (REPO / "docs" / "scoring.md").read_text(encoding="utf-8")

EXAMPLE_A = {
    "inputs": dict(contributor_count=120, commit_frequency=35, updated_since=0.1, org_count=6, comment_frequency=2.5,
                   code_review_count=3, updated_issues_count=400, recent_releases_count=4),
    "steps": {  # signal: (f, w·f) as printed
        "contributor_count": ("0.63091", "0.11362"), "commit_frequency": ("0.51869", "0.09341"),
        "updated_since": ("0.42712", "−0.05442"), "org_count": ("0.56666", "0.06517"),
        "comment_frequency": ("0.69918", "0.05431"), "code_review_count": ("0.63093", "0.03104"),
        "updated_issues_count": ("0.76606", "0.03768"), "recent_releases_count": ("0.62747", "0.01993"),
    },
    "sum": "0.3607441", "raw": "0.649287", "raw_minus_min": "0.878625", "final": "0.60234",
}
EXAMPLE_B = {
    "inputs": dict(contributor_count=2600, commit_frequency=None, updated_since=2, org_count=45, comment_frequency=7.5,
                   code_review_count=None, updated_issues_count=900, recent_releases_count=0),
    "steps": {
        "contributor_count": ("1.00000", "0.18009"), "commit_frequency": ("0.00000", "0.00000"),
        "updated_since": ("1.00000", "−0.12742"), "org_count": ("1.00000", "0.11501"),
        "comment_frequency": ("1.00000", "0.07768"), "code_review_count": ("0.00000", "0.00000"),
        "updated_issues_count": ("0.86952", "0.04277"), "recent_releases_count": ("0.00000", "0.00000"),
    },
    "sum": "0.2881316", "raw": "0.518595", "raw_minus_min": "0.747933", "final": "0.51275",
}


def signed(value: float, places: int) -> str:
    return f"{value:.{places}f}".replace("-", "−")


def test_compass_minimum_and_denominator_as_documented(compass):
    low, high = normalisation_bounds(compass)
    assert f"{sum(s.weight for s in compass.signals):.5f}" == "0.55560"
    assert signed(low, 6) == "−0.229338" and f"{1 - 2 * low:.6f}" == "1.458675"
    assert "−0.229338" in DOC and "1.458675" in DOC


@pytest.mark.parametrize("example", [EXAMPLE_A, EXAMPLE_B], ids=["A", "B"])
def test_each_step_of_the_worked_example(compass, example):
    inputs = example["inputs"]
    total = 0.0
    for signal in compass.signals:
        value = inputs[signal.name]
        f = fraction(signal, value) if value is not None else worst_fraction(signal)
        total += signal.weight * f
        f_text, wf_text = example["steps"][signal.name]
        assert (f"{f:.5f}", signed(signal.weight * f, 5)) == (f_text, wf_text), signal.name
        assert f"| {f_text}" in DOC and f"| {wf_text} |" in DOC
    low, _ = normalisation_bounds(compass)
    raw = total / 0.5556
    assert f"{total:.7f}" == example["sum"]
    assert f"{raw:.6f}" == example["raw"]
    assert f"{raw - low:.6f}" == example["raw_minus_min"]
    for key in ("sum", "raw", "raw_minus_min", "final"):
        assert f"**{example[key]}**" in DOC, key

    result = score_signals(compass, inputs)
    assert f"{result.score:.5f}" == example["final"]
    assert result.raw_score == pytest.approx(raw)
    assert sum(result.contributions.values()) == pytest.approx(raw)
