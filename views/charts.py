"""The app's charts as plain Vega-Lite specifications, drawn with st.vega_lite_chart.

Altair builds the same specifications but validates every channel against the Vega-Lite JSON schema on each call
(hashing schema fragments as JSON): 0.1–0.4 s of every page run that draws a chart, more than the page's own queries.
The few chart shapes the pages use are written here once; a field name is given with its Vega-Lite type
(``"得分:Q"``, ``"社区:N"``, ``"月份:O"``), as in Altair's shorthand.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

TYPES = {"Q": "quantitative", "N": "nominal", "O": "ordinal", "T": "temporal"}


def field(shorthand: str, **extra: Any) -> dict:
    """``"得分:Q"`` → {"field": "得分", "type": "quantitative"}; ``"sum(得分):Q"`` adds the aggregate."""
    name, _, kind = shorthand.rpartition(":")
    if not name or kind not in TYPES:
        raise ValueError(f"chart field {shorthand!r}: write it as NAME:Q, NAME:N, NAME:O or NAME:T")
    spec: dict[str, Any] = {"type": TYPES[kind]}
    if name.endswith(")") and "(" in name:
        aggregate, _, name = name[:-1].partition("(")
        spec["aggregate"] = aggregate
    spec["field"] = name
    spec.update(extra)
    return spec


def _tooltip(items: list) -> list[dict]:
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(item)
        else:
            out.append(field(item if ":" in item else f"{item}:N"))
    return out


def bars(frame: pd.DataFrame, x: dict, y: dict, *, color: dict | None = None, tooltip: list | None = None,
         key: str | None = None) -> None:
    """Horizontal bars (x the value, y the category)."""
    encoding: dict[str, Any] = {"x": x, "y": y}
    if color is not None:
        encoding["color"] = color
    if tooltip:
        encoding["tooltip"] = _tooltip(tooltip)
    st.vega_lite_chart(frame, {"mark": {"type": "bar"}, "encoding": encoding}, width="stretch", key=key)


def line(frame: pd.DataFrame, x: dict, y: dict, *, tooltip: list | None = None, key: str | None = None) -> None:
    """A line with its points."""
    encoding: dict[str, Any] = {"x": x, "y": y}
    if tooltip:
        encoding["tooltip"] = _tooltip(tooltip)
    st.vega_lite_chart(frame, {"mark": {"type": "line", "point": True}, "encoding": encoding}, width="stretch",
                       key=key)
