"""A round's results (`mtx rounds results`): frozen signals plus the experts' ratings, aggregated, scored, ranked.

Provisional from `frozen`, final from `scored`; always recomputed from what the round stored (frozen signal values,
expert scores, conflicts), so the same round gives the same results every time.

- Each expert signal is aggregated over the ratings of the experts not conflicted on the candidate, by the round's
  setting: `mean`; `trimmed` (one highest and one lowest rating dropped when at least 5 experts rated it, otherwise the
  mean); `median`. `flagged` when max - min exceeds 40 % of the signal's scale (its threshold).
- The total is the model's score (tracker.scoring.engine) of frozen values plus aggregated ratings, on the model's
  scale; `quantitative` and `expert` are the points of each part.
- Status: `failed_check` (never scored), `too_few_experts` (fewer than the round's minimum of complete,
  non-conflicted experts), `unavailable` (coverage below the model's minimum), else `ranked`.
- Rank, by the stated tie-break: higher total, then higher expert part, then higher coverage, then the earlier
  application.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import EvaluationRound, ExpertScore, RoundConflict, RoundResult, SignalValue
from tracker.rounds import lifecycle as L
from tracker.scoring.engine import score_signals

SPREAD_SHARE = 0.4  # a rating spread above this share of the scale is flagged for the committee


def aggregate(ratings: list[float], how: str) -> float | None:
    if not ratings:
        return None
    if how == "median":
        return float(statistics.median(ratings))
    if how == "trimmed" and len(ratings) >= 5:
        kept = sorted(ratings)[1:-1]
        return sum(kept) / len(kept)
    return sum(ratings) / len(ratings)


@dataclass
class ExpertValue:
    value: float | None
    experts: int
    flagged: bool

    def as_dict(self) -> dict:
        return {"value": None if self.value is None else round(self.value, 6), "experts": self.experts,
                "flagged": self.flagged}


@dataclass
class CandidateResult:
    candidate_id: int
    community: str
    applicant: str | None
    applied_at: object
    status: str
    rank: int | None
    total: float | None
    quantitative: float
    expert_points: float
    coverage: float
    expert: dict[str, ExpertValue]
    flags: list[dict] = field(default_factory=list)
    amount: int | None = None
    reason: str | None = None

    def as_dict(self, decimals: int) -> dict:
        r = lambda v: None if v is None else round(v, decimals) + 0.0  # noqa: E731
        return {"community": self.community, "applicant": self.applicant, "status": self.status, "rank": self.rank,
                "total": r(self.total), "quantitative": r(self.quantitative), "expert_points": r(self.expert_points),
                "coverage": round(self.coverage, 4), "expert": {k: v.as_dict() for k, v in self.expert.items()},
                "flags": self.flags, "amount": self.amount, "reason": self.reason}


def compute_results(session: Session, round_: EvaluationRound) -> list[CandidateResult]:
    L._need(round_, "frozen", "scored", "decided", "publicised", "final", action="查看结果 / see results")
    model = L.round_model(round_)
    experts = L.expert_signals(model)
    coverage = {c.slug: c for c in L.scoring_coverage(session, round_)}
    amounts = {r.candidate_id: r.decided_amount for r in
               session.scalars(select(RoundResult).where(RoundResult.round_id == round_.id))}
    out = []
    for candidate, slug in L._candidates(session, round_):
        if candidate.check_status != "passed":
            out.append(CandidateResult(candidate.id, slug, candidate.applicant, candidate.applied_at, "failed_check",
                                       None, None, 0.0, 0.0, 0.0, {}, reason=candidate.check_reason))
            continue
        values = {v.signal: v.value for v in session.scalars(select(SignalValue)
                                                             .where(SignalValue.candidate_id == candidate.id))}
        conflicted = set(session.scalars(select(RoundConflict.expert)
                                         .where(RoundConflict.candidate_id == candidate.id)))
        ratings: dict[str, list[float]] = {}
        for expert, signal, score in session.execute(
                select(ExpertScore.expert, ExpertScore.signal, ExpertScore.score)
                .where(ExpertScore.candidate_id == candidate.id).order_by(ExpertScore.expert, ExpertScore.signal)):
            if expert not in conflicted:
                ratings.setdefault(signal, []).append(float(score))
        expert_values = {}
        for s in experts:
            given = ratings.get(s.name, [])
            spread = (max(given) - min(given)) if given else 0.0
            expert_values[s.name] = ExpertValue(aggregate(given, round_.aggregation), len(given),
                                                spread > SPREAD_SHARE * s.threshold)
            values[s.name] = expert_values[s.name].value
        scored = score_signals(model, values, name=slug, model_hash=round_.model_hash)
        expert_names = {s.name for s in experts}
        expert_points = sum(p for n, p in scored.contributions.items() if n in expert_names)
        quantitative = sum(p for n, p in scored.contributions.items() if n not in expert_names)
        status, reason = scored.status, scored.reason
        if coverage.get(slug) is not None and coverage[slug].experts < round_.min_experts:
            status = "too_few_experts"
            reason = (f"完整评分的专家 {coverage[slug].experts} 人，少于 {round_.min_experts} 人 / "
                      f"{coverage[slug].experts} complete expert sheets, fewer than {round_.min_experts}")
        out.append(CandidateResult(candidate.id, slug, candidate.applicant, candidate.applied_at, status, None,
                                   scored.score, quantitative, expert_points, scored.coverage, expert_values,
                                   flags=list(candidate.integrity_flags or []), amount=amounts.get(candidate.id),
                                   reason=reason))
    ranked = sorted((r for r in out if r.status == "ranked"),
                    key=lambda r: (-r.total, -r.expert_points, -r.coverage, r.applied_at, r.candidate_id))
    for position, result in enumerate(ranked, start=1):
        result.rank = position
    order = {id(r): i for i, r in enumerate(ranked)}
    return sorted(out, key=lambda r: (r.rank is None, order.get(id(r), 0), r.community))


def results_json(round_: EvaluationRound, results: list[CandidateResult]) -> dict:
    decimals = L.round_model(round_).decimals
    return {"round": {"id": round_.id, "year": round_.year, "name": round_.name, "status": round_.status,
                      "model": {"name": round_.model_name, "hash": round_.model_hash},
                      "cutoff": round_.data_cutoff.isoformat(), "budget": round_.budget,
                      "max_award": round_.max_award, "aggregation": round_.aggregation,
                      "provisional": round_.status == "frozen"},
            "results": [r.as_dict(decimals) for r in results]}
