"""Missing-data policies, contributions, normalisation and ranking."""

from __future__ import annotations

import pytest

from tracker.scoring import ScoringModel, normalisation_bounds, rank_results, score_signals, score_table


def small_model(**overrides) -> ScoringModel:
    """Two bigger-is-better signals worth 3 and 1 points of 4, linear to 10."""
    data = dict(
        name="small", label_zh="小模型", description="test model", scale=100, decimals=2,
        groups=[dict(name="g", label_zh="组", description="d", signals=[
            dict(name="a", label_zh="甲", description="d", weight=3, threshold=10, transform="linear"),
            dict(name="b", label_zh="乙", description="d", weight=1, threshold=10, transform="linear"),
        ])],
    )
    return ScoringModel.model_validate({**data, **overrides})


def test_contributions_add_up_to_the_score_on_the_output_scale():
    result = score_signals(small_model(), {"a": 5, "b": 10})
    assert result.contributions == {"a": pytest.approx(37.5), "b": pytest.approx(25.0)}
    assert result.score == 62.5 == pytest.approx(sum(result.contributions.values()))
    assert result.groups == {"g": pytest.approx(62.5)}


def test_coverage_policy_missing_signal_earns_nothing_and_lowers_coverage():
    result = score_signals(small_model(missing="coverage"), {"a": 5})
    assert result.score == 37.5
    assert result.coverage == 0.75
    assert result.missing == ("b",)
    assert result.status == "ranked"


def test_coverage_below_minimum_is_unavailable_with_no_score_and_no_rank():
    model = small_model(missing="coverage", min_coverage=0.8)
    result = score_signals(model, {"a": 10}, name="thin")
    assert result.status == "unavailable"
    assert result.score is None
    assert "75%" in result.reason and "80%" in result.reason
    ranked = score_table(model, [("thin", {"a": 10}), ("full", {"a": 1, "b": 1})])
    assert [(r.name, r.rank) for r in ranked] == [("full", 1), ("thin", None)]


def test_zero_policy_counts_missing_as_worst_value():
    assert score_signals(small_model(missing="zero"), {"a": 5}).score == 37.5


def test_drop_policy_leaves_numerator_and_denominator_so_score_can_rise():
    model = small_model(missing="drop")
    assert score_signals(model, {"a": 5, "b": 0}).score == 37.5
    assert score_signals(model, {"a": 5}).score == 50.0  # b dropped: 15 / 3, higher than with b = 0


def test_drop_with_nothing_present_is_unavailable():
    result = score_signals(small_model(missing="drop"), {})
    assert result.status == "unavailable" and result.score is None


def test_nan_counts_as_missing():
    assert score_signals(small_model(), {"a": 5, "b": float("nan")}).missing == ("b",)


def test_compass_bounds_are_all_missing_and_all_best(compass):
    low, high = normalisation_bounds(compass)
    assert low == pytest.approx(-0.12742 / 0.5556)
    assert high - low == pytest.approx(1 - 2 * low)  # OSS Compass's (raw - min) / (1 - 2*min)
    assert score_signals(compass, {}).score == 0.0
    best = dict(contributor_count=5000, commit_frequency=5000, updated_since=0, org_count=100, comment_frequency=50,
                code_review_count=50, updated_issues_count=9000, recent_releases_count=50)
    assert score_signals(compass, best).score == 1.0


def test_ties_share_a_rank_and_the_next_rank_skips():
    model = small_model()
    ranked = score_table(model, [("c", {"a": 1, "b": 1}), ("a", {"a": 5, "b": 5}), ("b", {"a": 5, "b": 5})])
    assert [(r.name, r.rank) for r in ranked] == [("a", 1), ("b", 1), ("c", 3)]


def test_results_carry_model_name_and_hash():
    from tracker.scoring import model_hash

    model = small_model()
    [result] = rank_results([score_signals(model, {"a": 1, "b": 2}, name="x")])
    assert result.model == "small"
    assert result.model_hash == model_hash(model) and len(result.model_hash) == 64


def test_model_rejects_min_coverage_without_coverage_policy():
    with pytest.raises(ValueError, match="min_coverage only applies"):
        small_model(missing="zero", min_coverage=0.5)


def test_model_rejects_compass_minmax_with_drop():
    with pytest.raises(ValueError, match="compass_minmax needs every signal"):
        small_model(missing="drop", normalisation="compass_minmax")
