"""Each transform on plain numbers."""

from __future__ import annotations

import math

import pytest

from tracker.scoring.model import Signal
from tracker.scoring.transforms import banded_points, clamped_log_form, fraction, linear_form, log_form


def signal(**overrides) -> Signal:
    fields = dict(name="s", label_zh="信号", description="d", weight=1, threshold=10)
    return Signal(**{**fields, **overrides})


def test_log_form_below_at_and_beyond_threshold():
    assert log_form(4, 10) == pytest.approx(math.log(5) / math.log(11))
    assert log_form(10, 10) == 1.0
    assert log_form(1000, 10) == 1.0


def test_clamped_log_form_clamps_to_threshold():
    assert clamped_log_form(4, 10) == pytest.approx(math.log(5) / math.log(11))
    assert clamped_log_form(50, 10) == 1.0
    assert clamped_log_form(-3, 10) == 0.0


def test_linear_form_is_a_straight_line_to_threshold():
    assert linear_form(2.5, 10) == 0.25
    assert linear_form(12, 10) == 1.0


def test_negative_raw_values_count_as_zero():
    assert fraction(signal(transform="log"), -5) == 0.0
    assert fraction(signal(transform="linear"), -5) == 0.0


def test_flipped_smaller_is_better_signal_uses_threshold_minus_value():
    days = signal(transform="linear", direction="smaller_is_better", threshold=12)
    assert fraction(days, 3) == pytest.approx(0.75)
    assert fraction(days, 0) == 1.0
    assert fraction(days, 40) == 0.0


def test_negative_weight_signal_is_not_flipped():
    updated = signal(transform="log", weight=-1, direction="smaller_is_better", threshold=120)
    assert fraction(updated, 6) == pytest.approx(math.log(7) / math.log(121))


def test_bands_award_the_best_band_reached():
    response = signal(transform="bands", direction="smaller_is_better", threshold=15,
                      bands=[{"at_most": 1, "score": 1}, {"at_most": 3, "score": 0.8}, {"at_most": 15, "score": 0.2}])
    assert banded_points(response, 0.5) == 1.0
    assert banded_points(response, 2) == 0.8
    assert banded_points(response, 3.5) == 0.2
    assert banded_points(response, 40) == 0.0
    stars = signal(transform="bands", bands=[{"at_least": 100, "score": 0.5}, {"at_least": 1000, "score": 1}])
    assert fraction(stars, 99) == 0.0
    assert fraction(stars, 500) == 0.5
    assert fraction(stars, 5000) == 1.0


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(weight=-1), "negative weight means smaller-is-better"),
        (dict(weight=0), "non-zero"),
        (dict(transform="bands"), "needs a non-empty 'bands'"),
        (dict(bands=[{"at_least": 1, "score": 1}]), "only used with transform 'bands'"),
        (dict(transform="bands", bands=[{"at_most": 1, "score": 1}]), "must use 'at_least'"),
        (dict(threshold=0), "greater than 0"),
    ],
)
def test_inconsistent_signals_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        signal(**overrides)
