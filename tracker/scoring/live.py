"""Scores from collected data (`mtx score`), peers and "why this score" (`mtx score --explain`).

Outside an evaluation round nobody has rated the expert signals (``expert_*``): that part is *pending* (待评审). The
live score is the quantitative part alone, on that part's own points: the model restricted to its other signals is
scored by the engine as usual (coverage, min_coverage and normalisation apply to that part), and the result is put on
the part's share of the model's scale (mantianxing: 70 of 100 points). A model without expert signals is scored whole.

Peers are the communities of the same focus field. A signal's percentile is the share of peers with a value doing
worse (ties count half; for smaller-is-better signals a larger value is worse). The gaps are the signals where the
community's points fall furthest below the peers' median points.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from tracker.metrics.compute import MetricsReport
from tracker.scoring.engine import ScoreResult, rank_results, score_signals
from tracker.scoring.identity import model_hash
from tracker.scoring.model import Direction, ScoringModel, SignalGroup
from tracker.scoring.signals import EXPERT_PREFIX
from tracker.scoring.transforms import best_fraction


def is_expert(name: str) -> bool:
    return name.startswith(EXPERT_PREFIX)


def quantitative_part(model: ScoringModel) -> tuple[ScoringModel, float]:
    """(the model without its expert signals, that part's share of the model's scale)."""
    if not any(is_expert(s.name) for s in model.signals):
        return model, 1.0
    groups = []
    for group in model.groups:
        kept = [s for s in group.signals if not is_expert(s.name)]
        if kept:
            groups.append(SignalGroup(**{**group.model_dump(exclude={"signals"}), "signals": kept}))
    part = ScoringModel(**{**model.model_dump(exclude={"groups"}), "groups": [g.model_dump() for g in groups]})
    share = sum(s.weight for s in part.signals) / sum(s.weight for s in model.signals)
    return part, share


@dataclass
class SignalScore:
    value: float | None
    points: float
    max_points: float
    percentile: float | None
    reason: str | None


@dataclass
class LiveResult:
    name: str
    focus: str | None
    result: ScoreResult
    score: float | None
    signals: dict[str, SignalScore]
    gaps: list[tuple[str, float]] = field(default_factory=list)  # (signal, points below the peers' median)


@dataclass
class LiveScores:
    model: ScoringModel
    model_hash: str
    part: ScoringModel
    share: float
    as_of: object
    results: list[LiveResult]
    part_only: bool = True

    @property
    def max_score(self) -> float:
        return round(self.model.scale * self.share, self.model.decimals)

    @property
    def pending(self) -> list[str]:
        return [s.name for s in self.model.signals if is_expert(s.name)] if self.part_only else []


def percentile(value: float, peers: list[float], smaller_is_better: bool) -> float | None:
    """Share of ``peers`` doing worse than ``value``, ties counting half; None without peers."""
    if not peers:
        return None
    worse = sum(1 for p in peers if (p > value if smaller_is_better else p < value))
    ties = sum(1 for p in peers if p == value)
    return (worse + 0.5 * ties) / len(peers)


@dataclass(frozen=True)
class Row:
    """One thing to score: its name, its peer group (focus field) and its raw values with the reason for a gap."""

    name: str
    focus: str | None
    values: dict[str, float | None]
    reasons: dict[str, str | None]


def score_report(model: ScoringModel, report: MetricsReport, only: set[str] | None = None) -> LiveScores:
    """Score every community of ``report`` on the quantitative part (peers are all of them); ``only`` limits what is
    returned and ranked."""
    rows = [Row(s.key, s.focus, {n: v.value for n, v in s.signals.items()},
                {n: v.reason for n, v in s.signals.items()}) for s in report.scopes]
    return score_rows(model, rows, report.as_of, only=only, part_only=True)


def score_rows(model: ScoringModel, rows: list[Row], as_of=None, *, only: set[str] | None = None,
               part_only: bool = True) -> LiveScores:
    """Score rows under the model (its quantitative part when ``part_only``), with percentiles and gaps among the
    rows of the same focus field."""
    part, share = quantitative_part(model) if part_only else (model, 1.0)
    digest = model_hash(model)
    total = sum(s.weight for s in part.signals)
    best = {s.name: s.weight * best_fraction(s) / total * part.scale * share for s in part.signals}
    scored = {row.name: (row, score_signals(part, row.values, name=row.name, model_hash=digest)) for row in rows}
    by_focus: dict = {}
    for row in rows:
        by_focus.setdefault(row.focus, []).append(row.name)
    out = []
    for name, (row, result) in scored.items():
        peers = [scored[p] for p in by_focus[row.focus] if p != name]
        signals, gaps = {}, []
        for s in part.signals:
            value = row.values.get(s.name)
            points = result.contributions.get(s.name, 0.0) * share
            with_value = [(p_row, p_result) for p_row, p_result in peers if p_row.values.get(s.name) is not None]
            pct = None if value is None else percentile(value, [p.values[s.name] for p, _ in with_value],
                                                        s.direction is Direction.smaller_is_better)
            reason = row.reasons.get(s.name) if s.name in row.reasons else (None if value is not None else "missing")
            signals[s.name] = SignalScore(value, round(points, model.decimals) + 0.0,
                                          round(best[s.name], model.decimals) + 0.0, pct, reason)
            if with_value:
                gap = statistics.median([r.contributions.get(s.name, 0.0) * share for _, r in with_value]) - points
                if gap > 1e-9:
                    gaps.append((s.name, gap))
        gaps.sort(key=lambda g: (-g[1], g[0]))
        score = None if result.score is None else round(result.score * share, model.decimals)
        out.append(LiveResult(name, row.focus, result, score, signals, gaps[:3]))
    ranked_order = rank_results([r.result for r in out if only is None or r.name in only])
    by_name = {r.name: r for r in out}
    results = []
    for ranked in ranked_order:
        live = by_name[ranked.name]
        live.result = ranked
        results.append(live)
    return LiveScores(model, digest, part, share, as_of, results, part_only)


def scores_json(scores: LiveScores) -> dict:
    """``{"model": {"name", "hash"}, "as_of", "part", "max_score", "pending", "results": [...]}``; ``part`` is
    "quantitative" for live scores and "all" for a table scored whole (`mtx score-signals`)."""
    return {
        "model": {"name": scores.model.name, "hash": scores.model_hash},
        "as_of": scores.as_of.isoformat() if hasattr(scores.as_of, "isoformat") else scores.as_of,
        "part": "quantitative" if scores.part_only else "all",
        "max_score": scores.max_score,
        "pending": scores.pending,
        "results": [result_json(r) for r in scores.results],
    }


def result_json(r: LiveResult) -> dict:
    return {
        "name": r.name, "rank": r.result.rank, "score": r.score, "coverage": round(r.result.coverage, 4),
        "status": r.result.status, "reason": r.result.reason,
        "signals": {n: {"value": s.value, "points": s.points, "max_points": s.max_points,
                        "percentile": None if s.percentile is None else round(s.percentile, 4), "reason": s.reason}
                    for n, s in r.signals.items()},
    }


def _num(value, decimals: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.{decimals}f}"


def header_lines(scores: LiveScores) -> list[str]:
    m = scores.model
    lines = [f"模型 / model {m.name} (sha256 {scores.model_hash[:12]}), 截至 / as of {scores.as_of}"]
    if scores.pending:
        lines.append(f"定量部分 / quantitative part: 0–{scores.max_score:g} 分 (满分 {m.scale}); "
                     f"专家评审部分待评审 / expert part pending (待评审): {', '.join(scores.pending)}")
    else:
        lines.append(f"全部为定量信号 / every signal is quantitative: 0–{scores.max_score:g}")
    return lines


def scores_text(scores: LiveScores, names: dict[str, str]) -> str:
    from tracker import vocab
    from tracker.scoring.engine import percent
    from tracker.scoring.render import display_width

    lines = header_lines(scores)
    header = ["排名 rank", "社区 community", "领域 focus", "得分 score", "覆盖 coverage", "说明 note"]
    body = []
    for r in scores.results:
        note = r.result.reason or (f"缺 / missing: {', '.join(r.result.missing)}" if r.result.missing else "")
        body.append([str(r.result.rank) if r.result.rank else "-", f"{r.name} {names.get(r.name, '')}".strip(),
                     vocab.FOCUS_FIELDS.zh(r.focus), "-" if r.score is None else f"{r.score:.{scores.model.decimals}f}",
                     percent(r.result.coverage), note])
    widths = [max(display_width(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        lines.append("  ".join((" " * (widths[i] - display_width(c)) + c) if i in (0, 3, 4)
                               else c + " " * (widths[i] - display_width(c)) for i, c in enumerate(row)).rstrip())
    if not body:
        lines.append("没有可评分的社区 / no communities to score")
    return "\n".join(lines)


def explain_text(scores: LiveScores, name: str, label: str, labels: dict[str, str]) -> str:
    """The score in words and numbers: points per signal, what is missing and why, peers, what to improve."""
    from tracker import vocab
    from tracker.scoring.engine import percent
    from tracker.scoring.render import display_width

    r = next(x for x in scores.results if x.name == name)
    lines = header_lines(scores)
    focus = vocab.FOCUS_FIELDS.zh(r.focus)
    peers = sum(1 for x in scores.results if x.focus == r.focus and x.name != name)
    if r.score is None:
        lines.append(f"{name} {label}: 无得分 / unavailable — {r.result.reason}")
    else:
        lines.append(f"{name} {label}: {r.score:.{scores.model.decimals}f} / {scores.max_score:g} 分, "
                     f"排名 / rank {r.result.rank}, 覆盖 / coverage {percent(r.result.coverage)}")
    lines.append(f"同领域对比 / peers: {focus}领域的其他 {peers} 个社区 (percentile: 同行中表现更差者的比例，并列计一半)")
    header = ["信号 signal", "值 value", "得分 points", "满分 max", "同行百分位 percentile", "说明 note"]
    from tracker.metrics.registry import signals as registered

    shares = {n for n, d in registered().items() if d.unit == "share"}
    body = []
    for n, s in r.signals.items():
        note = "" if s.reason is None else f"{vocab.METRIC_REASONS.zh(s.reason)} / {s.reason}"
        value = f"{s.value * 100:.1f}%" if n in shares and s.value is not None else _num(s.value)
        body.append([f"{labels.get(n, n)} {n}", value, f"{s.points:.2f}", f"{s.max_points:.2f}",
                     "—" if s.percentile is None else f"{s.percentile * 100:.0f}%", note])
    widths = [max(display_width(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        lines.append("  " + "  ".join((" " * (widths[i] - display_width(c)) + c) if i in (1, 2, 3, 4)
                                      else c + " " * (widths[i] - display_width(c)) for i, c in enumerate(row)).rstrip())
    earned = [(n, s) for n, s in r.signals.items() if s.points > 0]
    earned.sort(key=lambda x: -x[1].points)
    if earned:
        lines.append("得分最多 / most points: " + ", ".join(f"{labels.get(n, n)} {s.points:.2f}/{s.max_points:.2f}"
                                                        for n, s in earned[:3]))
    missing = [(n, s) for n, s in r.signals.items() if s.value is None]
    if missing:
        lines.append("缺失 / missing: " + "; ".join(
            f"{labels.get(n, n)} ({vocab.METRIC_REASONS.zh(s.reason)} / {s.reason})" for n, s in missing))
    if r.gaps:
        lines.append("最值得改进 / largest gaps below the median of the peers: " + "; ".join(
            f"{labels.get(n, n)} {n} 低于同行中位数 {gap:.2f} 分" for n, gap in r.gaps))
    elif peers:
        lines.append("没有低于同行中位数的信号 / no signal below the median of the peers")
    return "\n".join(lines)


def explain_json(scores: LiveScores, name: str) -> dict:
    r = next(x for x in scores.results if x.name == name)
    return {**scores_json(LiveScores(scores.model, scores.model_hash, scores.part, scores.share, scores.as_of, [r],
                                     scores.part_only)),
            "peers": sum(1 for x in scores.results if x.focus == r.focus and x.name != name),
            "gaps": [{"signal": n, "points_below_median": round(g, 4)} for n, g in r.gaps]}


def live_ranking(session, actor, model_ref: str, config_dir, *, as_of=None, focus: str | None = None,
                 stale_after_days: int = 3):
    """(scores, metrics report, model) for the ranking page: every community's metrics, scored by the model's
    quantitative part, ranked within ``focus`` when one is given (peers are always the whole focus field)."""
    from pathlib import Path

    from tracker.metrics.compute import compute_metrics
    from tracker.scoring.loading import load_model

    may_see_ranking(actor)
    model = load_model(model_ref, Path(config_dir) / "models")
    report = compute_metrics(session, actor, as_of=as_of, model=model, stale_after_days=stale_after_days)
    return in_focus(model, report, focus), report, model


def may_see_ranking(actor) -> None:
    """Administrators and evaluators see the ranking and what it is computed from; anyone else is refused."""
    from tracker.access import require_role

    require_role(actor, "admin", "evaluator", action="see the community ranking")


def in_focus(model: ScoringModel, report: MetricsReport, focus: str | None) -> LiveScores:
    """The ranking of one focus field (every field when None) from an all-communities metrics report: peers are
    always the whole field, so this equals `live_ranking(..., focus=focus)` without computing the metrics again."""
    return score_report(model, report, only={s.key for s in report.scopes if focus is None or s.focus == focus})


def group_points(scores: LiveScores, result: LiveResult) -> dict[str, float]:
    """Points per model group (its label) for one result: what the ranking's bars show."""
    return {g.label_zh: round(sum(result.signals[s.name].points for s in g.signals if s.name in result.signals), 2)
            for g in scores.part.groups}


def ranking_xlsx(scores: LiveScores, names: dict[str, str], focus_of: dict[str, str | None]) -> bytes:
    """The ranking as an XLSX (every text cell a string cell, never a formula)."""
    import io

    from openpyxl import Workbook

    from tracker import vocab
    from tracker.spreadsheet import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = "社区排名"
    groups = [g.label_zh for g in scores.part.groups]
    append_row(ws, ["排名", "社区", "名称", "领域", f"得分（0–{scores.max_score:g}）", "覆盖率", "状态", *groups, "说明"])
    for r in scores.results:
        points = group_points(scores, r)
        append_row(ws, [r.result.rank, r.name, names.get(r.name, ""), vocab.FOCUS_FIELDS.zh(focus_of.get(r.name)),
                        r.score, round(r.result.coverage, 4), vocab.SCORE_STATUSES.zh(r.result.status),
                        *[points[g] for g in groups], r.result.reason or ""])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
