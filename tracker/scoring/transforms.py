"""Raw signal value -> fraction in [0, 1]: the four transforms a model may name.

Pure functions, so each published formula can be checked with plain numbers. ``math.log(1 + x)``
is used (not ``log1p``) on purpose: it is what criticality_score computes, and reproducing its
published scores to 5 decimals depends on the same floating-point steps.
"""

from __future__ import annotations

import math

from tracker.scoring.model import Direction, Signal, Transform


def log_form(value: float, threshold: float) -> float:
    """criticality_score / OSS Compass: ``log(1+x) / log(1+max(x, T))`` (1 at or beyond T)."""
    value = max(value, 0.0)
    return math.log(1 + value) / math.log(1 + max(value, threshold))


def clamped_log_form(value: float, threshold: float) -> float:
    """criticality_score Go scorer (zipfian): ``ln(1+min(x, T)) / ln(1+T)``."""
    value = min(max(value, 0.0), threshold)
    return math.log(1 + value) / math.log(1 + threshold)


def linear_form(value: float, threshold: float) -> float:
    """Straight line from 0 to T: ``min(x, T) / T``."""
    return min(max(value, 0.0), threshold) / threshold


def banded_points(signal: Signal, value: float) -> float:
    """LFX-style points: the best band the value reaches; 0 when it reaches none."""
    if signal.direction is Direction.bigger_is_better:
        reached = [band.score for band in signal.bands or [] if value >= band.at_least]
    else:
        reached = [band.score for band in signal.bands or [] if value <= band.at_most]
    return max(reached, default=0.0)


def fraction(signal: Signal, value: float) -> float:
    """The signal's fraction in [0, 1] for a present raw value, direction applied."""
    if signal.transform is Transform.bands:
        return banded_points(signal, value)
    threshold = signal.threshold
    if signal.flipped:
        # Go scorer's smaller_is_better: clamp into [0, T], then v = T - v.
        value = threshold - min(max(value, 0.0), threshold)
    if signal.transform is Transform.log:
        return log_form(value, threshold)
    if signal.transform is Transform.clamped_log:
        return clamped_log_form(value, threshold)
    return linear_form(value, threshold)


def worst_fraction(signal: Signal) -> float:
    """The fraction of the worst possible value: what a missing value counts as.

    0 for a positive weight (a count of 0, or a flipped value at T); 1 for a negative weight,
    because OSS Compass counts a missing negative metric as T and ``log(1+T)/log(1+T) = 1``.
    Either way the signal's contribution ``weight * fraction`` is the lowest it can be, which
    is why a missing signal can never raise a score under ``zero`` or ``coverage``.
    """
    return 0.0 if signal.weight > 0 else 1.0


def best_fraction(signal: Signal) -> float:
    """The fraction of the best possible value (used for the min-max normalisation's top)."""
    if signal.transform is Transform.bands:
        return max(band.score for band in signal.bands or [])
    return 1.0 if signal.weight > 0 else 0.0
