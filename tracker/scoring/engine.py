"""Score one row of raw signals under a model, and rank a table of rows.

The rules, in order (each one is a sentence in docs/scoring.md):

1. Each present signal gets a fraction ``f`` in [0, 1] from its transform (``transforms``).
2. Missing signals, by the model's policy:
   - ``drop`` (criticality_score's Go scorer): the signal leaves the numerator *and* the
     denominator. Documented flaw: dropping a weak signal can raise a score.
   - ``zero``: the signal counts as its worst value (0 for a positive weight; T for a negative
     weight, as OSS Compass does) and stays in the denominator.
   - ``coverage`` (our default): as ``zero``, and ``coverage`` = share of |weight| present;
     below ``min_coverage`` the result is *unavailable*: no score, no rank.
3. ``raw = sum(weight * f) / sum(weight)`` over the counted signals (signed weights: this is
   the legacy criticality_score denominator of 8.5). ``contributions[s] = weight * f / sum``,
   so contributions add up to ``raw``.
4. Normalisation (``compass_minmax``): ``(raw - min) / (max - min)`` where ``min`` is the raw
   score with every value missing and ``max`` with every value at its best; for signed-sum
   models ``max = 1 - min``, i.e. OSS Compass's ``(raw - min) / (1 - 2*min)``.
5. Clip to [0, 1], multiply by the scale (1 or 100), round to the model's decimals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from tracker.scoring.identity import model_hash as compute_model_hash
from tracker.scoring.model import MissingPolicy, Normalisation, ScoringModel
from tracker.scoring.transforms import best_fraction, fraction, worst_fraction
from tracker.vocab import SCORE_STATUSES

Status = Literal[SCORE_STATUSES.values]  # type: ignore[valid-type]  # ranked | unavailable (tracker.vocab)


@dataclass(frozen=True)
class ScoreResult:
    """One scored row: enough to show the score and to explain it signal by signal.

    ``score`` is final (normalised, clipped, scaled, rounded) and None when unavailable;
    ``raw_score`` is the sum of ``contributions`` on the output scale, before normalisation and
    clipping (None only when no signal could be counted); ``coverage`` is the share of |weight|
    present, 0..1.
    """

    name: str
    model: str
    model_hash: str
    status: Status
    score: float | None
    raw_score: float | None
    coverage: float
    contributions: dict[str, float]
    groups: dict[str, float] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    reason: str | None = None
    rank: int | None = None


def normalisation_bounds(model: ScoringModel) -> tuple[float, float]:
    """(min, max) raw score of the model: every value missing / every value at its best."""
    signals = model.signals
    total = sum(signal.weight for signal in signals)
    low = sum(signal.weight * worst_fraction(signal) for signal in signals) / total
    high = sum(signal.weight * best_fraction(signal) for signal in signals) / total
    return low, high


def percent(share: float) -> str:
    """0.75 -> '75%', 0.595 -> '59.5%': never rounds a share up to the threshold it missed."""
    text = f"{math.floor(share * 1000 + 1e-9) / 10:.1f}".removesuffix(".0")
    return f"{text}%"


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def score_signals(
    model: ScoringModel,
    values: Mapping[str, float | None],
    *,
    name: str = "",
    model_hash: str | None = None,
) -> ScoreResult:
    """Score one row. ``values`` maps signal names to raw values; absent or None is missing."""
    digest = model_hash or compute_model_hash(model)
    signals = model.signals
    present = {s.name for s in signals if not _is_missing(values.get(s.name))}
    missing = tuple(s.name for s in signals if s.name not in present)
    total_abs = sum(abs(s.weight) for s in signals)
    coverage = sum(abs(s.weight) for s in signals if s.name in present) / total_abs

    counted = [s for s in signals if s.name in present or model.missing is not MissingPolicy.drop]
    denominator = sum(s.weight for s in counted)
    terms: dict[str, float] = {}
    for signal in counted:
        if signal.name in present:
            terms[signal.name] = signal.weight * fraction(signal, float(values[signal.name]))
        else:
            terms[signal.name] = signal.weight * worst_fraction(signal)

    def unavailable(reason: str, contributions: dict[str, float], raw: float | None = None) -> ScoreResult:
        return ScoreResult(
            name=name, model=model.name, model_hash=digest, status="unavailable", score=None,
            raw_score=raw, coverage=coverage, contributions=contributions, missing=missing,
            reason=reason,
        )

    if not counted or denominator <= 0:
        return unavailable("no signal with a usable weight is present", {s.name: 0.0 for s in signals})

    raw = sum(terms.values()) / denominator
    contributions = {
        s.name: (terms[s.name] / denominator * model.scale if s.name in terms else 0.0) for s in signals
    }
    groups = {g.name: sum(contributions[s.name] for s in g.signals) for g in model.groups}
    if model.missing is MissingPolicy.coverage and coverage < model.min_coverage:
        return unavailable(
            f"coverage {percent(coverage)} is below the model's minimum {percent(model.min_coverage)}",
            contributions,
            raw * model.scale,
        )

    final = raw
    if model.normalisation is Normalisation.compass_minmax:
        low, high = normalisation_bounds(model)
        final = (raw - low) / (high - low)
    final = min(max(final, 0.0), 1.0) * model.scale
    return ScoreResult(
        name=name, model=model.name, model_hash=digest, status="ranked",
        score=round(final, model.decimals), raw_score=raw * model.scale, coverage=coverage,
        contributions=contributions, groups=groups, missing=missing,
    )


def rank_results(results: Iterable[ScoreResult]) -> list[ScoreResult]:
    """Highest score first with competition ranks (1, 2, 2, 4); unavailable rows last, unranked."""
    results = list(results)
    scored = sorted((r for r in results if r.status == "ranked"), key=lambda r: (-r.score, r.name))
    ranked: list[ScoreResult] = []
    for position, result in enumerate(scored, start=1):
        tied = ranked and ranked[-1].score == result.score
        ranked.append(replace(result, rank=ranked[-1].rank if tied else position))
    ranked.extend(sorted((r for r in results if r.status != "ranked"), key=lambda r: r.name))
    return ranked


def score_table(
    model: ScoringModel, rows: Iterable[tuple[str, Mapping[str, float | None]]]
) -> list[ScoreResult]:
    """Score ``(name, values)`` rows and return them ranked."""
    digest = compute_model_hash(model)
    return rank_results(score_signals(model, values, name=name, model_hash=digest) for name, values in rows)
