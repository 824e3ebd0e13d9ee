"""How `mtx rounds allocate` shares a round's budget among its ranked candidates: pure functions, no database.

The caller passes the ranked candidates only (status `ranked`), in rank order, and gets back who receives how much,
what is left of the budget and sentences explaining every cut. Whatever the rule, the result always satisfies:
never over the budget; nobody above the max award; a candidate ranked below another never gets more; candidates with
the same rank get the same amount; only candidates passed in are paid; every amount is a whole multiple of 10,000 CNY
(万元); `rest == budget - allocated >= 0`. tests/rounds/test_allocation.py checks these with hypothesis.

Rules, and the decisions the issue left open:

* ``tiers`` (``--tiers 2000000,1000000,500000``): tier i is the amount for the candidate at position i of the ranking
  (position, not rank value, so competition ranks 1,1,3 and dense ranks 1,1,2 give the same result). Tiers must be
  non-negative, non-increasing, multiples of 10,000 (so every amount is one) and at most the max award (the error
  names the tier). Candidates beyond the last tier get nothing.
  Ties: a tied group **splits the tiers of the positions it occupies** equally (as tied players split prize money),
  each member's share rounded down to 10,000: ranks 1,1,3 under 2,000,000/1,000,000/500,000 give 1,500,000 each and
  500,000. So a tie never costs more than the planned tiers, no tied candidate gets more than the tier of the shared
  position, and everyone below still gets their own position's tier.
  The budget is spent from the top: the first candidate (or tied group) that the remaining budget cannot pay in full
  gets what is left, rounded down to 10,000 (a group shares it equally, each rounded down); everyone after gets
  nothing, even if a lower tier would still fit — "as far as the budget goes" stops at the first cut.
* ``proportional --top N``: the top N positions share the budget in proportion to their totals; a tie at the N-th
  position takes **the whole tie** in (no candidate is left out for the order a tie was listed in). Each share is
  capped at the max award, then rounded down to 10,000. Money freed by the cap **is not redistributed**: it stays in
  `rest`, reported in a note, for the committee (`mtx rounds decide`). Redistributing it by water-filling (fix the
  capped at the cap, share the rest among the others in proportion, repeat) would keep every property above, but it
  pays the others more than their share of the budget by total — 6,000,000 over totals 80/60/40 with a 2,000,000 cap
  becomes 2,000,000 each, the equal rule — which is not the rule the issue states. Totals are read at their shortest
  decimal form (80.1 is 801/10, not the binary float) and all arithmetic is exact, so a share that is a whole 万元 on
  paper is not lost to float rounding.
  Within a tied group the members' mean total is used (equal ranks, equal amounts); if a total is higher than one
  ranked above it (a ranking by rounded totals can do that), it is lowered to that one for the share, so the rule never
  pays a candidate more than one ranked above; a note says so. A candidate whose total is 0 gets nothing.
* ``equal --top N``: the top N positions (the whole tie at the N-th, as above) get budget / count each, capped at the
  max award, rounded down to 10,000; totals play no part (a total of 0 is paid like any other).

A ranking that is not one is refused (AllocationError): a key twice, ranks going down the list, a rank below 1, a total
that is negative, infinite or NaN — the caller's bug, said plainly rather than allocated around.

Parameters that do not fit the rule (``--tiers`` with ``proportional``, ``--top`` with ``tiers``) are refused rather
than silently ignored, so the office never thinks a setting took effect when it did not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from common.bilingual import Bilingual, BilingualError
from tracker.formatting import yuan

RULES = ("tiers", "proportional", "equal")
UNIT = 10_000  # amounts are whole 万元


@dataclass(frozen=True)
class Ranked:
    """One ranked candidate, in rank order (rank 1 first); ties share a rank."""

    key: str     # community slug
    rank: int
    total: float  # the candidate's total score (> 0 for the proportional rule to give it money)


@dataclass(frozen=True)
class Allocation:
    rule: str                 # "tiers" | "proportional" | "equal"
    amounts: dict[str, int]   # key -> yuan (only keys that get money > 0; in rank order)
    budget: int
    allocated: int            # sum of amounts
    rest: int                 # budget - allocated
    notes: list[str]          # "中文 / English" sentences explaining cuts (budget ran out, capped, rounded)


class AllocationError(BilingualError, ValueError):
    """Parameters the rules cannot work with; `zh` and `en` say which and how to fix it."""


def allocate(rule: str, ranked: list[Ranked], *, budget: int, max_award: int,
             tiers: list[int] | None = None, top: int | None = None) -> Allocation:
    """Share `budget` among `ranked` by `rule`; see the module docstring for the rules and their tie and cap
    decisions. Raises AllocationError for bad parameters."""
    _check_parameters(rule, budget=budget, max_award=max_award, tiers=tiers, top=top)
    groups = _tie_groups(ranked)
    notes: list[str] = []
    if not groups:
        notes.append(_note("没有可分配的已排名候选", "no ranked candidates to allocate to"))
        per_group: list[int] = []
    elif rule == "tiers":
        per_group = _tiers(groups, budget, tiers, notes)
    else:
        chosen = _top_groups(groups, top, notes)
        if rule == "proportional":
            per_group = _proportional(chosen, budget, max_award, notes)
        else:
            per_group = _equal(chosen, budget, max_award, notes)
    amounts = {item.key: amount for group, amount in zip(groups, per_group) if amount > 0 for item in group}
    allocated = sum(amounts.values())
    return Allocation(rule=rule, amounts=amounts, budget=budget, allocated=allocated, rest=budget - allocated,
                      notes=notes)


# --- the rules: one amount per tie group in rank order (groups without an entry get nothing) --------------------------


def _tiers(groups: list[list[Ranked]], budget: int, tiers: list[int], notes: list[str]) -> list[int]:
    amounts: list[int] = []
    remaining = budget
    position = 0  # 0-based position of the group's first member
    for group in groups:
        size = len(group)
        occupied = tiers[position:position + size]
        if not occupied:
            notes.append(_note(f"第 {position + 1} 位起没有对应的档位，{_names(groups, len(amounts))} 未获分配",
                               f"there is no tier for position {position + 1} onwards: "
                               f"{_names(groups, len(amounts))} get nothing"))
            break
        planned = _down(Fraction(sum(occupied), size))
        if size > 1:
            span = f"{position + 1}–{position + size}"
            rounded = planned * size != sum(occupied)
            notes.append(_note(f"并列第 {group[0].rank} 名的 {_keys(group)} 平分第 {span} 位的档位（合计 "
                               f"{yuan(sum(occupied))}），每个 {yuan(planned)}{'（向下取整到万元）' if rounded else ''}",
                               f"{_keys(group)}, tied at rank {group[0].rank}, split the tiers of positions {span} "
                               f"({yuan(sum(occupied))} together): {yuan(planned)} each"
                               f"{', rounded down to 10,000' if rounded else ''}"))
        if planned * size <= remaining:
            amounts.append(planned)
            remaining -= planned * size
            position += size
            continue
        share = _down(Fraction(remaining, size))
        amounts.append(share)
        if share == 0:
            notes.append(_note(f"预算已用尽（剩余 {yuan(remaining)}，不足一万元），{_names(groups, len(amounts) - 1)} "
                               f"未获分配",
                               f"the budget ran out ({yuan(remaining)} left, less than 10,000 each): "
                               f"{_names(groups, len(amounts) - 1)} get nothing"))
            break
        each, gets = ("每个", f"they get {yuan(share)} each") if size > 1 else ("", f"it gets {yuan(share)}")
        notes.append(_note(f"预算不足以支付 {_keys(group)} 的档位 {yuan(planned)}：{each}获得剩余的 {yuan(share)}"
                           f"（剩余 {yuan(remaining)}，向下取整到万元）",
                           f"the budget cannot pay {_keys(group)} the tier of {yuan(planned)}: {gets}, what is left "
                           f"({yuan(remaining)}) rounded down to 10,000"))
        if len(amounts) < len(groups):
            notes.append(_note(f"预算已用尽，{_names(groups, len(amounts))} 未获分配",
                               f"the budget ran out: {_names(groups, len(amounts))} get nothing"))
        break
    return amounts


def _proportional(groups: list[list[Ranked]], budget: int, max_award: int, notes: list[str]) -> list[int]:
    weights: list[Fraction] = []
    for group in groups:
        mean = sum((_exact(item.total) for item in group), Fraction(0)) / len(group)
        if len(group) > 1 and len({item.total for item in group}) > 1:
            notes.append(_note(f"并列第 {group[0].rank} 名的 {_keys(group)} 按平均总分 {_num(mean)} 计算，金额相同",
                               f"{_keys(group)}, tied at rank {group[0].rank}, share by their mean total "
                               f"{_num(mean)}, so they get the same amount"))
        if weights and mean > weights[-1]:
            notes.append(_note(f"{_keys(group)} 的总分 {_num(mean)} 高于排名在前的候选（{_num(weights[-1])}），按后者计算，"
                               f"排名靠后者不会多得",
                               f"{_keys(group)} has a higher total ({_num(mean)}) than a candidate ranked above "
                               f"({_num(weights[-1])}); the share uses the latter, so nobody gets more than a "
                               f"candidate ranked above"))
            mean = weights[-1]
        weights.append(mean)
    whole = sum((weight * len(group) for weight, group in zip(weights, groups)), Fraction(0))
    if whole == 0:
        notes.append(_note("入选候选的总分均为 0，无法按比例分配",
                           "every chosen candidate's total is 0: nothing to share in proportion"))
        return []
    zero = [item for weight, group in zip(weights, groups) if weight == 0 for item in group]
    if zero:
        notes.append(_note(f"{_keys(zero)} 总分为 0，按比例不获分配", f"{_keys(zero)}: total 0, so no share"))
    return _capped_and_rounded(groups, [budget * weight / whole for weight in weights], max_award, notes,
                               freed_zh="按比例规则不再分给他人，计入预算余额",
                               freed_en="is not redistributed under the proportional rule and stays in the rest")


def _equal(groups: list[list[Ranked]], budget: int, max_award: int, notes: list[str]) -> list[int]:
    count = sum(len(group) for group in groups)
    return _capped_and_rounded(groups, [Fraction(budget, count)] * len(groups), max_award, notes,
                               freed_zh="计入预算余额", freed_en="stays in the rest")


def _capped_and_rounded(groups: list[list[Ranked]], shares: list[Fraction], max_award: int, notes: list[str], *,
                        freed_zh: str, freed_en: str) -> list[int]:
    """Cap every share at the max award, then round it down to 10,000; one note for the cap, one for the rounding."""
    amounts, capped, freed, dropped = [], [], Fraction(0), Fraction(0)
    for group, share in zip(groups, shares):
        if share > max_award:
            capped.extend(group)
            freed += (share - max_award) * len(group)
            share = Fraction(max_award)
        amount = _down(share)
        dropped += (share - amount) * len(group)
        amounts.append(amount)
    if capped:
        notes.append(_note(f"{_keys(capped)} 的份额超过单项最高额 {yuan(max_award)}，按最高额计；超出的 "
                           f"{yuan(round(freed))} {freed_zh}",
                           f"the share of {_keys(capped)} is above the max award of {yuan(max_award)} and is capped "
                           f"there; the {yuan(round(freed))} above it {freed_en}"))
    if dropped:
        # shown so that the two notes add up to the rest exactly (each rounded to the yuan would not)
        shown = round(freed + dropped) - round(freed)
        notes.append(_note(f"各项金额向下取整到万元，共舍去 {yuan(shown)}，计入预算余额",
                           f"amounts are rounded down to 10,000: {yuan(shown)} in all stays in the rest"))
    return amounts


# --- parameters and the ranking ---------------------------------------------------------------------------------------


def _check_parameters(rule: str, *, budget: int, max_award: int, tiers: list[int] | None, top: int | None) -> None:
    if rule not in RULES:
        raise AllocationError(f"未知的分配规则 {rule!r}：可用 --rule tiers、proportional 或 equal",
                              f"unknown rule {rule!r}: use --rule tiers, proportional or equal")
    if not _whole(budget) or budget <= 0:
        raise AllocationError(f"预算必须是大于 0 的整数（元），现为 {budget!r}：请为评审轮次设定预算",
                              f"the budget must be a whole number of yuan above 0, not {budget!r}: set the round's "
                              f"budget")
    if not _whole(max_award) or max_award <= 0:
        raise AllocationError(f"单项最高额必须是大于 0 的整数（元），现为 {max_award!r}：请为评审轮次设定 --max-award",
                              f"the max award must be a whole number of yuan above 0, not {max_award!r}: set the "
                              f"round's --max-award")
    if rule == "tiers":
        if top is not None:
            raise AllocationError("--top 只用于 --rule proportional 或 equal；档位规则请只给 --tiers",
                                  "--top applies to --rule proportional or equal only: give --tiers alone")
        _check_tiers(tiers, max_award)
        return
    if tiers is not None:
        raise AllocationError(f"--tiers 只用于 --rule tiers；--rule {rule} 请给 --top N",
                              f"--tiers applies to --rule tiers only: give --rule {rule} --top N")
    if top is None:
        raise AllocationError(f"--rule {rule} 需要 --top N（参与分配的前 N 名）",
                              f"--rule {rule} needs --top N (how many of the ranking share the budget)")
    if not _whole(top) or top < 1:
        raise AllocationError(f"--top 必须是至少为 1 的整数，现为 {top!r}",
                              f"--top must be a whole number of at least 1, not {top!r}")


def _check_tiers(tiers: list[int] | None, max_award: int) -> None:
    if not tiers:
        raise AllocationError("--rule tiers 需要 --tiers，例如 --tiers 2000000,1000000,500000（按名次从高到低，单位元）",
                              "--rule tiers needs --tiers, e.g. --tiers 2000000,1000000,500000 (yuan, from the top "
                              "rank down)")
    for number, tier in enumerate(tiers, start=1):
        if not _whole(tier) or tier < 0:
            raise AllocationError(f"第 {number} 档 {tier!r} 不是非负整数（元）：档位金额不能为负",
                                  f"tier {number} ({tier!r}) is not a whole number of yuan >= 0: amounts cannot be "
                                  f"negative")
        if tier % UNIT:
            raise AllocationError(f"第 {number} 档 {yuan(tier)} 不是万元的整数倍：请改为如 {yuan(tier - tier % UNIT)}",
                                  f"tier {number} ({tier:,} yuan) is not a multiple of 10,000: use e.g. "
                                  f"{tier - tier % UNIT:,}")
        if tier > max_award:
            raise AllocationError(f"第 {number} 档 {yuan(tier)} 超过单项最高额 {yuan(max_award)}：请降到最高额以内",
                                  f"tier {number} ({tier:,} yuan) is above the max award of {max_award:,} yuan: "
                                  f"lower it to at most that")
        if number > 1 and tier > tiers[number - 2]:
            raise AllocationError(f"第 {number} 档 {yuan(tier)} 高于第 {number - 1} 档 {yuan(tiers[number - 2])}："
                                  f"档位须从高到低（不递增）排列",
                                  f"tier {number} ({tier:,} yuan) is above tier {number - 1} ({tiers[number - 2]:,}"
                                  f" yuan): give the tiers from the highest down, never increasing")


def _tie_groups(ranked: list[Ranked]) -> list[list[Ranked]]:
    """The ranking as runs of equal rank; refuses a ranking that is not one (the caller's bug, said plainly)."""
    groups: list[list[Ranked]] = []
    seen: set[str] = set()
    for item in ranked:
        if item.key in seen:
            raise AllocationError(f"候选 {item.key} 在排名中出现两次", f"candidate {item.key} is in the ranking twice")
        seen.add(item.key)
        if not _whole(item.rank) or item.rank < 1:
            raise AllocationError(f"候选 {item.key} 的名次 {item.rank!r} 不是正整数",
                                  f"candidate {item.key} has rank {item.rank!r}, not a whole number >= 1")
        total = item.total
        if isinstance(total, bool) or not isinstance(total, (int, float)) or not math.isfinite(total) or total < 0:
            raise AllocationError(f"候选 {item.key} 的总分 {total!r} 不是非负有限数",
                                  f"candidate {item.key} has total {total!r}, not a finite number >= 0")
        if groups and item.rank < groups[-1][0].rank:
            raise AllocationError(f"排名未按名次排列：{item.key}（第 {item.rank} 名）排在第 {groups[-1][0].rank} 名之后",
                                  f"the ranking is not in rank order: {item.key} (rank {item.rank}) comes after rank "
                                  f"{groups[-1][0].rank}")
        if groups and item.rank == groups[-1][0].rank:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _top_groups(groups: list[list[Ranked]], top: int, notes: list[str]) -> list[list[Ranked]]:
    """The groups starting within the first `top` positions: a tie at the N-th position comes in whole."""
    chosen, position = [], 0
    for group in groups:
        if position >= top:
            break
        chosen.append(group)
        position += len(group)
    if position > top:
        last = chosen[-1]
        notes.append(_note(f"第 {top} 位上 {len(last)} 个候选并列（第 {last[0].rank} 名：{_keys(last)}），全部纳入，"
                           f"共 {position} 个候选参与分配",
                           f"{len(last)} candidates tie at position {top} (rank {last[0].rank}: {_keys(last)}): all "
                           f"are included, {position} candidates share"))
    elif position < top:
        notes.append(_note(f"只有 {position} 个已排名候选，少于 --top {top}",
                           f"only {position} ranked candidates, fewer than --top {top}"))
    return chosen


# --- small helpers ----------------------------------------------------------------------------------------------------


def _down(amount: Fraction | int) -> int:
    """Rounded down to a whole 10,000 yuan (exact: `amount` is a Fraction or an int)."""
    return math.floor(Fraction(amount) / UNIT) * UNIT


def _exact(total: float) -> Fraction:
    """A total as the decimal it prints as (80.1 -> 801/10), so hand-computed shares come out exactly."""
    return Fraction(repr(float(total))) if isinstance(total, float) else Fraction(total)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _keys(items: list[Ranked]) -> str:
    return ", ".join(item.key for item in items)


def _names(groups: list[list[Ranked]], start: int) -> str:
    """The candidates of groups[start:], shortened when many."""
    rest = [item for group in groups[start:] for item in group]
    shown = _keys(rest[:5])
    return shown + (f" … (+{len(rest) - 5})" if len(rest) > 5 else "")


def _num(value: Fraction) -> str:
    return f"{float(value):g}"


def _note(zh: str, en: str) -> str:
    return str(Bilingual(zh, en))
