"""The scoring-model schema: a model is data (``config/models/*.yaml``), validated here.

Why a schema: evaluators must be able to read, change and cite a model, so every knob that
changes a score (weight, threshold, direction, transform, missing-data policy, normalisation,
scale) lives in the file and is checked when it is loaded, never hidden in code.

Sign conventions (they let one engine reproduce criticality_score and OSS Compass):
- ``weight`` may be negative. A negative weight is how the legacy criticality_score and OSS
  Compass say "smaller is better": the raw value goes through the transform unchanged and the
  negative weight subtracts it. Such a signal must declare ``direction: smaller_is_better``.
- A positive weight with ``direction: smaller_is_better`` is flipped instead (the Go scorer's
  ``smaller_is_better``): the clamped value ``v`` becomes ``T - v`` before the transform.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Direction(str, Enum):
    """Whether a larger raw value is better (more active, more adopted) or worse (slower)."""

    bigger_is_better = "bigger_is_better"
    smaller_is_better = "smaller_is_better"


class Transform(str, Enum):
    """How a raw value becomes a fraction in [0, 1] before it is weighted."""

    log = "log"  # log(1+x) / log(1+max(x, T))  (criticality_score Python, OSS Compass)
    clamped_log = "clamped_log"  # ln(1+min(x, T)) / ln(1+T)  (criticality_score Go)
    linear = "linear"  # min(x, T) / T
    bands = "bands"  # points by band, as LFX Insights does


class MissingPolicy(str, Enum):
    """What a signal with no value does to the score (see ``engine`` for the exact rules)."""

    drop = "drop"
    zero = "zero"
    coverage = "coverage"


class Normalisation(str, Enum):
    """A final step applied to the weighted mean, before clipping and scaling."""

    none = "none"
    compass_minmax = "compass_minmax"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """One band of a banded signal: raw values at least (or at most) ``bound`` earn ``score``."""

    at_least: float | None = None
    at_most: float | None = None
    score: float = Field(ge=0, le=1, description="fraction of the signal's weight, 0..1")

    @model_validator(mode="after")
    def _one_bound(self) -> "Band":
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("a band needs exactly one of at_least / at_most")
        return self


class Signal(_Strict):
    """One measured or expert-rated input of a model."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1)
    description: str = Field(min_length=1)
    weight: float
    threshold: float = Field(gt=0, description="T: the value at (or beyond) which the signal is saturated")
    direction: Direction = Direction.bigger_is_better
    transform: Transform = Transform.log
    bands: list[Band] | None = None
    unit: str | None = None
    window_days: int | Literal["all"] | None = Field(
        default=None, description="days of activity the signal covers, ending at as-of, or 'all'; "
                                  "default: the signal's own (tracker/metrics/registry.py)")

    @field_validator("window_days")
    @classmethod
    def _positive_window(cls, value):
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError("window_days must be a whole number of days (1 or more) or 'all'")
        return value

    @field_validator("weight")
    @classmethod
    def _finite_nonzero(cls, weight: float) -> float:
        if not math.isfinite(weight) or weight == 0:
            raise ValueError("weight must be a finite, non-zero number")
        return weight

    @model_validator(mode="after")
    def _consistent(self) -> "Signal":
        if self.weight < 0 and self.direction is Direction.bigger_is_better:
            raise ValueError(
                "a negative weight means smaller-is-better; set direction: smaller_is_better "
                "or make the weight positive"
            )
        if self.transform is Transform.bands:
            if not self.bands:
                raise ValueError("transform 'bands' needs a non-empty 'bands' list")
            key = "at_least" if self.direction is Direction.bigger_is_better else "at_most"
            if any(getattr(band, key) is None for band in self.bands):
                raise ValueError(f"every band of a {self.direction.value} signal must use '{key}'")
            if self.weight < 0:
                raise ValueError("banded signals take a positive weight (the bands carry the direction)")
        elif self.bands:
            raise ValueError(f"'bands' is only used with transform 'bands', not '{self.transform.value}'")
        return self

    @property
    def flipped(self) -> bool:
        """True when smaller-is-better is expressed by flipping the value (positive weight)."""
        return (
            self.direction is Direction.smaller_is_better
            and self.weight > 0
            and self.transform is not Transform.bands
        )


class SignalGroup(_Strict):
    """A named set of signals, shown together and subtotalled in results."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1)
    description: str = Field(min_length=1)
    part: str | None = Field(default=None, description="optional larger part, e.g. quantitative / expert")
    signals: list[Signal] = Field(min_length=1)


class ScoringModel(_Strict):
    """A complete, self-describing scoring model."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    version: str = "1"
    label_zh: str = Field(min_length=1)
    description: str = Field(min_length=1)
    source: str | None = Field(default=None, description="where the weights come from")
    missing: MissingPolicy = MissingPolicy.coverage
    min_coverage: float = Field(default=0.0, ge=0, le=1)
    normalisation: Normalisation = Normalisation.none
    scale: Literal[1, 100] = 1
    decimals: int = Field(default=5, ge=0, le=10)
    groups: list[SignalGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self) -> "ScoringModel":
        names = [signal.name for signal in self.signals]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"signal names must be unique; repeated: {', '.join(duplicates)}")
        groups = [group.name for group in self.groups]
        if len(set(groups)) != len(groups):
            raise ValueError("group names must be unique")
        if sum(signal.weight for signal in self.signals) <= 0:
            raise ValueError("the weights must add up to more than 0 (they are the denominator)")
        if self.normalisation is Normalisation.compass_minmax and self.missing is MissingPolicy.drop:
            raise ValueError(
                "compass_minmax needs every signal in the denominator; use missing: zero or coverage"
            )
        if self.min_coverage > 0 and self.missing is not MissingPolicy.coverage:
            raise ValueError("min_coverage only applies with missing: coverage")
        return self

    @property
    def signals(self) -> list[Signal]:
        """All signals in file order (groups flattened)."""
        return [signal for group in self.groups for signal in group.signals]

    def signal_names(self) -> list[str]:
        return [signal.name for signal in self.signals]
