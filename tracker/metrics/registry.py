"""The signals metrics compute: each registered once, with its labels, unit, default window and the data behind it.

A signal is one small function ``fn(facts, window) -> {scope id: value}`` (tracker/metrics/signals.py) over the
shared, memoised queries of :class:`tracker.metrics.facts.Facts`. A value of None there means "nothing to measure"
(a median over no items); whether the data was there at all (collected, provided) is decided outside the function,
from the streams the signal names and the platforms that serve them (tracker/metrics/compute.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

ALL = "all"  # a window covering everything up to as-of


@dataclass(frozen=True)
class SignalDef:
    name: str
    label_zh: str
    label_en: str
    unit: str
    window: int | None          # default window in days; None: not windowed (a state as of the date)
    streams: tuple[str, ...]    # collection streams behind it: every counted repository needs them collected
    compute: Callable | None    # fn(facts, window) -> {scope: value}; None: never computable (see `unavailable`)
    smaller_is_better: bool = False
    unavailable: str | None = None  # a fixed reason: "no source" / "not provided" for every community
    definition: str = ""

    @property
    def label(self) -> str:
        return f"{self.label_zh} / {self.label_en}"


SIGNALS: dict[str, SignalDef] = {}


def signal(name: str, label_zh: str, label_en: str, unit: str, window: int | None, streams: tuple[str, ...],
           smaller_is_better: bool = False, unavailable: str | None = None):
    """Register the decorated function as signal ``name`` (its docstring is the definition shown to users)."""
    def register(fn: Callable) -> Callable:
        if name in SIGNALS:
            raise ValueError(f"signal {name} is registered twice")
        SIGNALS[name] = SignalDef(name, label_zh, label_en, unit, window, streams,
                                  None if unavailable else fn, smaller_is_better, unavailable,
                                  " ".join((fn.__doc__ or "").split()))
        return fn
    return register


def signals() -> dict[str, SignalDef]:
    """Every registered signal, in registration order (importing the signal functions on first use)."""
    from tracker.metrics import signals as _  # noqa: F401  registers them

    return dict(SIGNALS)
