"""The mantianxing example in docs/scoring.md: 63.48 at 95 % coverage, 41.68 before the panel, unavailable at 27 %."""

from __future__ import annotations

from tests.scoring.conftest import REPO
from tracker.scoring import score_signals

DOC = (REPO / "docs" / "scoring.md").read_text(encoding="utf-8")
COMMUNITY = dict(
    contributor_count=45, commit_frequency=12, recent_releases_count=6, updated_since=0, issue_first_response_days=2,
    pr_merge_days=5, closed_issues_count=60, org_count=5, top_org_commit_share=0.7, star_count=800, fork_count=150,
    dependents_count=None, chongqing_contributor_count=12, chongqing_commit_share=0.3,
    expert_focus_field_demonstration=4, expert_governance_licence=3, expert_documentation=3.5,
    expert_community_building=4,
)


def test_full_example_scores_63_48_at_95_percent_coverage(mantianxing):
    result = score_signals(mantianxing, COMMUNITY)
    assert (result.score, round(result.coverage, 2), result.missing) == (63.48, 0.95, ("dependents_count",))
    assert result.contributions["dependents_count"] == 0.0
    assert result.contributions["issue_first_response_days"] == 4.0  # 2 days: the 0.8 band of 5 points
    assert round(result.groups["expert_review"], 2) == 21.8
    assert "**63.48, coverage 95 %**" in DOC


def test_before_the_panel_rates_the_quantitative_part_alone_scores_41_68(mantianxing):
    quantitative = {k: v for k, v in COMMUNITY.items() if not k.startswith("expert_")}
    result = score_signals(mantianxing, quantitative)
    assert (result.status, result.score, round(result.coverage, 2)) == ("ranked", 41.68, 0.65)
    assert "**41.68, coverage 65 %**" in DOC


def test_five_signals_only_is_unavailable(mantianxing):
    few = {k: COMMUNITY[k] for k in ("contributor_count", "commit_frequency", "org_count", "star_count", "fork_count")}
    result = score_signals(mantianxing, few)
    assert (result.status, result.score, round(result.coverage, 2)) == ("unavailable", None, 0.27)
    assert "(27 %): *unavailable*" in DOC
