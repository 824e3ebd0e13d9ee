"""The choosers the ranking and the community detail share (model, as-of, focus field), so both show one scoring."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from tracker import vocab
from tracker.formatting import beijing_today
from tracker.metrics.compute import default_as_of
from tracker.scoring.loading import available_model_names
from views.common import config_dir, session

DEFAULT_MODEL = "mantianxing"


def scoring_choosers() -> tuple[str, dt.date, str | None]:
    """(model, as-of, focus field or None for every field), in three columns. ``?model=`` and ``?as_of=`` in the
    address preset the first two (a link from another page keeps its choice)."""
    models = available_model_names(config_dir() / "models")
    wanted = st.query_params.get("model") or DEFAULT_MODEL
    left, middle, right = st.columns(3)
    model = left.selectbox("评分模型", models, index=models.index(wanted) if wanted in models else 0)
    with session() as s:
        suggested, why = default_as_of(s, dt.datetime.now(dt.timezone.utc), 3)
    try:
        linked = dt.date.fromisoformat(st.query_params.get("as_of", ""))
    except ValueError:
        linked = None
    as_of = middle.date_input("数据截至（北京日期）", value=linked if linked and linked <= beijing_today() else suggested,
                              help=why)
    focus_labels = {"全部领域": None, **{t.zh: t.value for t in vocab.FOCUS_FIELDS}}
    focus = focus_labels[right.selectbox("重点领域", list(focus_labels))]
    return model, as_of, focus
