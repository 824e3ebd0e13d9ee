"""The catalogue of signal names a model may use, and what each one means: the metrics registry, seen from scoring.

Models name signals; tracker/metrics computes exactly the signals registered there (tracker/metrics/registry.py, one
function each in tracker/metrics/signals.py, whose docstring is the definition shown here), and ``mtx config check``
flags a model that names a signal nobody computes. Names follow criticality_score where it has one (so its presets run
unchanged). Signals that a review panel rates, not the collector, start with ``expert_`` and are always accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

EXPERT_PREFIX = "expert_"


@dataclass(frozen=True)
class KnownSignal:
    name: str
    label_zh: str
    description: str
    unit: str
    window: int | None = None  # default window in days (None: a state as of the date)
    unavailable: str | None = None  # always missing, and why ("no source", "not provided")


def _catalogue() -> dict[str, KnownSignal]:
    from tracker.metrics.registry import signals

    return {s.name: KnownSignal(s.name, s.label_zh, s.definition, s.unit, s.window, s.unavailable)
            for s in signals().values()}


KNOWN_SIGNALS: dict[str, KnownSignal] = _catalogue()


def known_signals() -> dict[str, KnownSignal]:
    """All collector-computed signal names with their meaning (expert signals are open-ended)."""
    return dict(KNOWN_SIGNALS)


def is_known_signal(name: str) -> bool:
    """True for a catalogued name or any ``expert_*`` name."""
    return name in KNOWN_SIGNALS or (name.startswith(EXPERT_PREFIX) and len(name) > len(EXPERT_PREFIX))
