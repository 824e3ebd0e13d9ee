"""Issue 19, "Must show": the allocation rules of `mtx rounds allocate` (tracker/rounds/allocation.py), pure functions.

Hand-computed cases for each rule (the arithmetic is written next to each expected amount), every refusal, and
hypothesis properties over random rankings, totals, budgets, caps, tiers and top: never over budget, never above the
max award, never more for a candidate ranked lower, equal ranks equal, only candidates in the ranking paid, whole
万元, rest = budget - allocated >= 0.
"""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.rounds.allocation import Allocation, AllocationError, Ranked, allocate

ROOT = Path(__file__).resolve().parents[2]
M = 1_000_000
K = 1_000
TIERS = [2 * M, 1 * M, 500 * K]


def ranking(*rows: tuple[int, float]) -> list[Ranked]:
    """c1, c2, … with the given (rank, total), in that order."""
    return [Ranked(f"c{n}", rank, total) for n, (rank, total) in enumerate(rows, start=1)]


FIVE = ranking((1, 80), (2, 60), (3, 40), (4, 30), (5, 20))


# --- hand-computed cases ----------------------------------------------------------------------------------------------

TIER_CASES = [
    # (id, ranking, budget, tiers, expected amounts)
    ("budget-ample", FIVE, 6 * M, TIERS,
     {"c1": 2 * M, "c2": 1 * M, "c3": 500 * K}),                      # 3.5M of 6M; c4, c5 beyond the tiers
    ("budget-cuts-second", FIVE, 2_555_000, TIERS,
     {"c1": 2 * M, "c2": 550 * K}),                                   # 555,000 left for c2 -> 550,000; c3 nothing
    ("budget-exactly-first", FIVE, 2 * M, TIERS,
     {"c1": 2 * M}),                                                  # nothing left for c2
    ("budget-below-10000", FIVE, 5 * K, TIERS,
     {}),                                                             # 5,000 rounds down to 0
    ("tie-at-top", ranking((1, 70), (1, 70), (3, 40), (4, 30), (5, 20)), 6 * M, TIERS,
     {"c1": 1_500_000, "c2": 1_500_000, "c3": 500 * K}),             # (2M + 1M) / 2 each; c3 keeps tier 3
    ("three-way-tie", ranking((1, 70), (1, 70), (1, 70), (4, 30)), 6 * M, TIERS,
     {"c1": 1_160_000, "c2": 1_160_000, "c3": 1_160_000}),           # 3.5M / 3 = 1,166,666.7 -> 1,160,000; no tier 4
    ("tie-budget-short", ranking((1, 90), (2, 60), (2, 60), (4, 30)), 2_900_000, [2 * M, 1 * M, 500 * K, 300 * K],
     {"c1": 2 * M, "c2": 450 * K, "c3": 450 * K}),                   # tie plans 750,000 each, 900,000 left: 450,000
    ("dense-ranks", ranking((1, 70), (1, 70), (2, 40)), 6 * M, TIERS,
     {"c1": 1_500_000, "c2": 1_500_000, "c3": 500 * K}),             # positions, not rank numbers, pick the tier
    ("tie-past-last-tier", ranking((1, 90), (2, 60), (3, 40), (3, 40)), 6 * M, [2 * M, 1 * M, 600 * K],
     {"c1": 2 * M, "c2": 1 * M, "c3": 300 * K, "c4": 300 * K}),      # (600,000 + no tier) / 2
    ("more-tiers-than-candidates", ranking((1, 90), (2, 60)), 6 * M, TIERS,
     {"c1": 2 * M, "c2": 1 * M}),
    ("zero-tier", ranking((1, 90), (2, 60)), 6 * M, [1 * M, 0],
     {"c1": 1 * M}),
]


@pytest.mark.parametrize("ranked, budget, tiers, expected", [case[1:] for case in TIER_CASES],
                         ids=[case[0] for case in TIER_CASES])
def test_tiers_hand_computed(ranked, budget, tiers, expected):
    result = allocate("tiers", ranked, budget=budget, max_award=2 * M, tiers=tiers)
    assert result.amounts == expected
    assert list(result.amounts) == [key for key in (r.key for r in ranked) if key in expected]  # rank order
    assert result.allocated == sum(expected.values())
    assert result.rest == budget - sum(expected.values())
    assert result.rule == "tiers" and result.budget == budget


PROPORTIONAL_CASES = [
    # (id, ranking, budget, max_award, top, expected amounts)
    ("cap-binds", FIVE, 6 * M, 2 * M, 3,
     {"c1": 2 * M,                # 6M × 80/180 = 2,666,666.7, capped at 2M
      "c2": 2 * M,                # 6M × 60/180 = 2,000,000 exactly (not above the cap)
      "c3": 1_330_000}),          # 6M × 40/180 = 1,333,333.3 -> 1,330,000; rest 670,000
    ("no-cap", FIVE, 3 * M, 2 * M, 3,
     {"c1": 1_330_000,            # 3M × 80/180 = 1,333,333.3
      "c2": 1 * M,                # 3M × 60/180
      "c3": 660 * K}),            # 3M × 40/180 = 666,666.7; rest 10,000
    ("tie-at-nth-taken-whole", ranking((1, 80), (2, 60), (3, 40), (3, 40), (5, 10)), 2_200_000, 2 * M, 3,
     {"c1": 800 * K, "c2": 600 * K, "c3": 400 * K, "c4": 400 * K}),  # 2.2M over 80+60+40+40 = 220
    ("decimal-totals", ranking((1, 0.3), (2, 0.1)), 3 * M, 2_500_000, 2,
     {"c1": 2_250_000, "c2": 750 * K}),  # 3M × 0.3/0.4 exactly; binary floats give 2,249,999.99… -> 2,240,000
    ("tie-different-totals", ranking((1, 70), (1, 50), (3, 30), (4, 10)), 1_500_000, 2 * M, 3,
     {"c1": 600 * K, "c2": 600 * K, "c3": 300 * K}),  # the tie shares by its mean 60: 1.5M × 60/150 each
    ("total-above-the-one-ranked-above", ranking((1, 50), (2, 60)), 1 * M, 2 * M, 2,
     {"c1": 500 * K, "c2": 500 * K}),  # c2's 60 counts as c1's 50: 1M × 50/100 each
    ("zero-total", ranking((1, 50), (2, 0)), 1 * M, 2 * M, 2,
     {"c1": 1 * M}),
    ("all-zero", ranking((1, 0), (2, 0)), 1 * M, 2 * M, 2,
     {}),
    ("top-beyond-ranking", ranking((1, 30), (2, 10)), 1 * M, 2 * M, 5,
     {"c1": 750 * K, "c2": 250 * K}),  # 1M × 30/40, 1M × 10/40
    ("top-one", FIVE, 6 * M, 2 * M, 1,
     {"c1": 2 * M}),                   # 6M for one, capped; rest 4M
]


@pytest.mark.parametrize("ranked, budget, max_award, top, expected", [case[1:] for case in PROPORTIONAL_CASES],
                         ids=[case[0] for case in PROPORTIONAL_CASES])
def test_proportional_hand_computed(ranked, budget, max_award, top, expected):
    result = allocate("proportional", ranked, budget=budget, max_award=max_award, top=top)
    assert result.amounts == expected
    assert list(result.amounts) == [key for key in (r.key for r in ranked) if key in expected]
    assert (result.allocated, result.rest) == (sum(expected.values()), budget - sum(expected.values()))


EQUAL_CASES = [
    ("rounded", FIVE, 5 * M, 2 * M, 3,
     {"c1": 1_660_000, "c2": 1_660_000, "c3": 1_660_000}),  # 5M / 3 = 1,666,666.7; rest 20,000
    ("cap-binds", FIVE, 10 * M, 2 * M, 3,
     {"c1": 2 * M, "c2": 2 * M, "c3": 2 * M}),              # 3,333,333.3 capped; rest 4M
    ("tie-at-nth-taken-whole", ranking((1, 80), (2, 60), (3, 40), (3, 40), (5, 10)), 5 * M, 2 * M, 3,
     {"c1": 1_250_000, "c2": 1_250_000, "c3": 1_250_000, "c4": 1_250_000}),  # 5M / 4
    ("cap-not-whole-10000", FIVE, 10 * M, 1_995_000, 2,
     {"c1": 1_990_000, "c2": 1_990_000}),                   # capped at 1,995,000, rounded down
    ("zero-totals-still-equal", ranking((1, 0), (2, 0)), 1 * M, 2 * M, 2,
     {"c1": 500 * K, "c2": 500 * K}),
]


@pytest.mark.parametrize("ranked, budget, max_award, top, expected", [case[1:] for case in EQUAL_CASES],
                         ids=[case[0] for case in EQUAL_CASES])
def test_equal_hand_computed(ranked, budget, max_award, top, expected):
    result = allocate("equal", ranked, budget=budget, max_award=max_award, top=top)
    assert result.amounts == expected
    assert (result.allocated, result.rest) == (sum(expected.values()), budget - sum(expected.values()))


def test_notes_explain_the_cuts():
    capped = allocate("proportional", FIVE, budget=6 * M, max_award=2 * M, top=3)
    # freed by the cap: 2,666,666.7 - 2,000,000 = 666,667; rounding: 3,333.3 (c3); together the rest, 670,000
    assert any("c1" in note and "666,667" in note and "not redistributed" in note for note in capped.notes)
    assert any("rounded down to 10,000" in note and "3,333" in note for note in capped.notes)
    cut = allocate("tiers", FIVE, budget=2_555_000, max_award=2 * M, tiers=TIERS)
    assert any("c2" in note and "55万元" in note and "555,000" in note for note in cut.notes)
    assert any("ran out" in note and "c3, c4, c5" in note for note in cut.notes)
    beyond = allocate("tiers", FIVE, budget=6 * M, max_award=2 * M, tiers=TIERS)
    assert any("position 4" in note and "c4, c5" in note for note in beyond.notes)
    tie = allocate("equal", ranking((1, 8), (2, 6), (2, 6)), budget=3 * M, max_award=2 * M, top=2)
    assert any("tie at position 2" in note and "all are included" in note for note in tie.notes)
    every = capped.notes + cut.notes + beyond.notes + tie.notes
    assert all(" / " in note for note in every)  # 中文 / English


def test_empty_ranking_pays_nobody():
    for rule, extra in (("tiers", {"tiers": TIERS}), ("proportional", {"top": 3}), ("equal", {"top": 3})):
        result = allocate(rule, [], budget=6 * M, max_award=2 * M, **extra)
        assert (result.amounts, result.allocated, result.rest) == ({}, 0, 6 * M)
        assert result.notes


def test_pure_and_without_the_database():
    ranked = list(FIVE)
    first = allocate("proportional", ranked, budget=6 * M, max_award=2 * M, top=3)
    assert allocate("proportional", ranked, budget=6 * M, max_award=2 * M, top=3) == first
    assert ranked == FIVE
    code = ("import sys, tracker.rounds.allocation; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] == 'sqlalchemy' or m in ('tracker.db', 'tracker.models')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- refusals ---------------------------------------------------------------------------------------------------------

ERRORS = [
    # (id, rule, ranking, keyword arguments, words the English part must contain)
    ("unknown-rule", "lottery", FIVE, {"top": 3}, ["unknown rule", "tiers, proportional or equal"]),
    ("budget-zero", "equal", FIVE, {"budget": 0, "top": 3}, ["budget", "above 0"]),
    ("budget-negative", "equal", FIVE, {"budget": -5, "top": 3}, ["budget", "above 0"]),
    ("max-award-zero", "equal", FIVE, {"max_award": 0, "top": 3}, ["max award", "above 0"]),
    ("tiers-missing", "tiers", FIVE, {}, ["needs --tiers"]),
    ("tiers-empty", "tiers", FIVE, {"tiers": []}, ["needs --tiers"]),
    ("tier-negative", "tiers", FIVE, {"tiers": [1 * M, -10 * K]}, ["tier 2", "negative"]),
    ("tiers-increasing", "tiers", FIVE, {"tiers": [1 * M, 2 * M]}, ["tier 2", "above tier 1", "never increasing"]),
    ("tier-above-max", "tiers", FIVE, {"tiers": [3 * M, 1 * M]}, ["tier 1", "3,000,000", "max award", "2,000,000"]),
    ("tier-not-whole-10000", "tiers", FIVE, {"tiers": [1_005_000]}, ["tier 1", "multiple of 10,000", "1,000,000"]),
    ("top-with-tiers", "tiers", FIVE, {"tiers": TIERS, "top": 3}, ["--top applies"]),
    ("tiers-with-proportional", "proportional", FIVE, {"tiers": TIERS, "top": 3}, ["--tiers applies"]),
    ("top-missing-proportional", "proportional", FIVE, {}, ["needs --top"]),
    ("top-missing-equal", "equal", FIVE, {}, ["needs --top"]),
    ("top-zero", "proportional", FIVE, {"top": 0}, ["--top", "at least 1"]),
    ("top-negative", "equal", FIVE, {"top": -2}, ["--top", "at least 1"]),
    ("duplicate-candidate", "equal", [Ranked("a", 1, 5), Ranked("a", 2, 4)], {"top": 2}, ["a", "twice"]),
    ("ranks-out-of-order", "equal", ranking((2, 5), (1, 6)), {"top": 2}, ["not in rank order", "c2"]),
    ("rank-zero", "equal", ranking((0, 5)), {"top": 2}, ["rank 0"]),
    ("total-negative", "proportional", ranking((1, -1)), {"top": 2}, ["c1", "total -1"]),
    ("total-nan", "proportional", ranking((1, math.nan)), {"top": 2}, ["c1", "total nan"]),
]


@pytest.mark.parametrize("rule, ranked, kwargs, words", [case[1:] for case in ERRORS], ids=[c[0] for c in ERRORS])
def test_refusals_say_what_to_fix(rule, ranked, kwargs, words):
    kwargs = {"budget": 6 * M, "max_award": 2 * M} | kwargs
    with pytest.raises(AllocationError) as caught:
        allocate(rule, ranked, **kwargs)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.zh and error.en and str(error) == f"{error.zh} / {error.en}"
    for word in words:
        assert word in error.en


# --- properties -------------------------------------------------------------------------------------------------------

totals = st.one_of(st.integers(min_value=0, max_value=100),
                   st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False),
                   st.just(0))


@st.composite
def rankings(draw) -> list[Ranked]:
    """Random tie groups, competition (1,1,3) or dense (1,1,2) ranks, totals in rank order or not at all."""
    sizes = draw(st.lists(st.integers(min_value=1, max_value=3), max_size=8))
    dense = draw(st.booleans())
    values = draw(st.lists(totals, min_size=sum(sizes), max_size=sum(sizes)))
    if draw(st.booleans()):
        values.sort(reverse=True)
    # competition ranks: every member of a group carries the position of its first member
    start, ranked = 0, []
    for number, size in enumerate(sizes, start=1):
        for offset in range(size):
            rank = number if dense else start + 1
            ranked.append(Ranked(f"c{start + offset + 1}", rank, values[start + offset]))
        start += size
    return ranked


@st.composite
def cases(draw):
    ranked = draw(rankings())
    rule = draw(st.sampled_from(["tiers", "proportional", "equal"]))
    budget = draw(st.one_of(st.integers(min_value=1, max_value=20 * M), st.integers(min_value=1, max_value=50 * K)))
    max_award = draw(st.integers(min_value=1, max_value=3 * M))
    extra = {}
    if rule == "tiers":
        units = draw(st.lists(st.integers(min_value=0, max_value=max_award // 10_000), min_size=1, max_size=10))
        extra["tiers"] = sorted((unit * 10_000 for unit in units), reverse=True)
    else:
        extra["top"] = draw(st.integers(min_value=1, max_value=12))
    return rule, ranked, budget, max_award, extra


def better_than(ranked: list[Ranked], item: Ranked) -> int:
    return sum(1 for other in ranked if other.rank < item.rank)


@settings(max_examples=600, deadline=None)
@given(cases())
def test_properties_hold_for_every_rule(case):
    rule, ranked, budget, max_award, extra = case
    result = allocate(rule, ranked, budget=budget, max_award=max_award, **extra)
    assert isinstance(result, Allocation) and result.rule == rule and result.budget == budget
    amounts = result.amounts
    keys = [item.key for item in ranked]
    # only candidates in the ranking, in rank order, only positive amounts
    assert set(amounts) <= set(keys)
    assert list(amounts) == [key for key in keys if key in amounts]
    assert all(value > 0 for value in amounts.values())
    # never over budget, never above the max award, whole 万元, rest consistent
    assert result.allocated == sum(amounts.values()) <= budget
    assert result.rest == budget - result.allocated >= 0
    assert all(value <= max_award for value in amounts.values())
    assert all(value % 10_000 == 0 for value in amounts.values())
    # a candidate ranked below another never gets more; equal ranks get equal amounts
    paid = [amounts.get(item.key, 0) for item in ranked]
    for i, above in enumerate(ranked):
        for j in range(i + 1, len(ranked)):
            below = ranked[j]
            if below.rank == above.rank:
                assert paid[j] == paid[i], (above, below, amounts)
            else:
                assert paid[j] <= paid[i], (above, below, amounts)
    assert all(isinstance(note, str) and " / " in note for note in result.notes)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_top_n_pays_only_the_top_n_and_their_tie(case):
    rule, ranked, budget, max_award, extra = case
    if rule == "tiers":
        return
    result = allocate(rule, ranked, budget=budget, max_award=max_award, **extra)
    chosen = [item for item in ranked if better_than(ranked, item) < extra["top"]]
    assert set(result.amounts) <= {item.key for item in chosen}
    if rule == "equal" and chosen:
        # every chosen candidate gets budget / count, capped, rounded down (integer arithmetic here)
        each = min(budget // len(chosen), max_award) // 10_000 * 10_000
        assert result.amounts == ({item.key: each for item in chosen} if each else {})
    if rule == "proportional" and max_award >= budget and any(item.total > 0 for item in chosen
                                                               if item.rank == chosen[0].rank):
        # no cap can bind and the top group has a total (weights never rise down the ranking, so if the top has 0,
        # everyone counts 0): only the rounding keeps money back, less than 10,000 per chosen candidate
        assert result.rest < 10_000 * len(chosen)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_tiers_follow_positions_until_the_budget_runs_out(case):
    rule, ranked, budget, max_award, extra = case
    if rule != "tiers":
        return
    tiers = extra["tiers"]
    result = allocate(rule, ranked, budget=budget, max_award=max_award, tiers=tiers)
    for item in ranked:
        start = next(n for n, other in enumerate(ranked) if other.rank == item.rank)  # where its tie group starts
        amount = result.amounts.get(item.key, 0)
        # nobody gets more than the tier of the position their tie group starts at; none beyond the tiers
        assert amount <= (tiers[start] if start < len(tiers) else 0)
    if len({item.rank for item in ranked}) == len(ranked):  # no ties: a prefix of the tiers, then the cut
        paid = [result.amounts.get(item.key, 0) for item in ranked]
        planned = [tiers[n] if n < len(tiers) else 0 for n in range(len(ranked))]
        cut = next((n for n in range(len(ranked)) if paid[n] != planned[n]), None)
        if cut is not None:
            assert paid[cut] < planned[cut]
            assert budget - sum(paid[:cut]) - paid[cut] < 10_000  # the cut candidate got what was left
            assert all(value == 0 for value in paid[cut + 1:])
        if budget >= sum(planned):
            assert paid == planned
