"""Properties that must hold for any input (hypothesis), on every shipped preset."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.scoring.conftest import PRESETS, load_preset
from tracker.scoring import MissingPolicy, score_signals
from tracker.scoring.model import Direction

MODELS = {name: load_preset(name) for name in PRESETS}
COVERAGE_MODELS = [m for m in MODELS.values() if m.missing is MissingPolicy.coverage]
# every preset plus copies with the coverage policy, so the rule is tested on every transform
COVERAGE_MODELS += [
    m.model_copy(update={"missing": MissingPolicy.coverage})
    for m in MODELS.values() if m.missing is not MissingPolicy.coverage
]

raw_value = st.one_of(
    st.none(),
    st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=10**6).map(float),
)


@st.composite
def model_and_values(draw, models):
    model = draw(st.sampled_from(models))
    values = {name: draw(raw_value) for name in model.signal_names()}
    return model, values


@settings(max_examples=300, deadline=None)
@given(model_and_values(COVERAGE_MODELS), st.data())
def test_under_coverage_removing_a_signal_never_raises_the_score(case, data):
    model, values = case
    present = [name for name, value in values.items() if value is not None]
    if not present:
        return
    removed = data.draw(st.sampled_from(present))
    before = score_signals(model, values)
    after = score_signals(model, {**values, removed: None})
    assert after.raw_score <= before.raw_score + 1e-12
    if before.status == "ranked" and after.status == "ranked":
        assert after.score <= before.score
    assert after.coverage <= before.coverage


@settings(max_examples=300, deadline=None)
@given(model_and_values(list(MODELS.values())), st.data())
def test_raising_a_bigger_is_better_signal_never_lowers_the_score(case, data):
    model, values = case
    bigger = [s.name for s in model.signals if s.direction is Direction.bigger_is_better]
    name = data.draw(st.sampled_from(bigger))
    start = values[name] if values[name] is not None else 0.0
    values = {**values, name: start}
    raised = {**values, name: start + data.draw(st.floats(min_value=0, max_value=1e6, allow_nan=False))}
    before, after = score_signals(model, values), score_signals(model, raised)
    if before.status == "ranked":
        assert after.status == "ranked"
        assert after.score >= before.score


@settings(max_examples=300, deadline=None)
@given(model_and_values(list(MODELS.values())))
def test_scores_stay_within_the_scale(case):
    model, values = case
    result = score_signals(model, values)
    assert 0.0 <= result.coverage <= 1.0
    if result.status == "ranked":
        assert 0.0 <= result.score <= model.scale
    else:
        assert result.score is None and result.rank is None
