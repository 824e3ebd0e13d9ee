"""A round as the office and its experts see it (`mtx rounds list|show`).

Experts see only their own scores until the round is scored; administrators see everyone's.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import vocab
from tracker.access import Actor, require_role
from tracker.models import EvaluationRound, ExpertScore, RoundConflict, RoundExpert, SignalValue
from tracker.rounds import lifecycle as L


def list_rounds(session: Session, actor: Actor) -> list[dict]:
    require_role(actor, "admin", "evaluator", action="list evaluation rounds")
    rounds = session.scalars(select(EvaluationRound).order_by(EvaluationRound.year.desc(), EvaluationRound.id)).all()
    if actor.role == "evaluator":  # the rounds they are on
        mine = set(session.scalars(select(RoundExpert.round_id).where(RoundExpert.expert == actor.name)))
        rounds = [r for r in rounds if r.id in mine]
    return [_head(r) for r in rounds]


def _head(r: EvaluationRound) -> dict:
    return {"id": r.id, "year": r.year, "name": r.name, "status": r.status,
            "status_label": vocab.ROUND_STATUSES.zh(r.status), "model": {"name": r.model_name, "hash": r.model_hash},
            "cutoff": r.data_cutoff.isoformat(), "budget": r.budget, "max_award": r.max_award,
            "aggregation": r.aggregation, "min_experts": r.min_experts, "publicity_days": r.publicity_days,
            "created_by": r.created_by, "created_at": r.created_at, "opened_at": r.opened_at,
            "checked_at": r.checked_at, "frozen_at": r.frozen_at, "scored_at": r.scored_at}


def show_round(session: Session, actor: Actor, round_: EvaluationRound) -> dict:
    require_role(actor, "admin", "evaluator", action="see an evaluation round")
    panel = list(session.scalars(select(RoundExpert.expert).where(RoundExpert.round_id == round_.id)
                                 .order_by(RoundExpert.expert)))
    if actor.role == "evaluator" and actor.name not in panel:
        L._refuse("评审专家只能查看自己所在的轮次", f"{actor.name} is not on round {round_.id}'s panel")
    sees_all = actor.role == "admin" or round_.status not in ("draft", "open", "checked", "frozen")
    out = _head(round_) | {"experts": panel, "candidates": []}
    coverage = {c.slug: c for c in L.scoring_coverage(session, round_)} if round_.status in ("frozen", "scored") else {}
    for candidate, slug in L._candidates(session, round_):
        conflicts = [{"expert": e, "reason": reason} for e, reason in session.execute(
            select(RoundConflict.expert, RoundConflict.reason).where(RoundConflict.candidate_id == candidate.id)
            .order_by(RoundConflict.expert))]
        scores = [{"expert": s.expert, "signal": s.signal, "score": s.score, "comment": s.comment}
                  for s in session.scalars(select(ExpertScore).where(ExpertScore.candidate_id == candidate.id)
                                           .order_by(ExpertScore.expert, ExpertScore.signal))
                  if sees_all or s.expert == actor.name]
        signals = {v.signal: {"value": v.value, "reason": v.reason, "window": v.window}
                   for v in session.scalars(select(SignalValue).where(SignalValue.candidate_id == candidate.id))}
        entry = {"community": slug, "applicant": candidate.applicant, "enterprise_uscc": candidate.enterprise_uscc,
                 "applied_at": candidate.applied_at, "check_status": candidate.check_status,
                 "check_label": vocab.CHECK_STATUSES.zh(candidate.check_status),
                 "check_reason": candidate.check_reason, "checked_by": candidate.checked_by,
                 "conflicts": conflicts, "scores": scores, "signals": signals}
        if slug in coverage and sees_all:
            entry["experts_complete"] = coverage[slug].experts
        out["candidates"].append(entry)
    return out


def show_text(data: dict) -> str:
    from tracker.formatting import yuan

    lines = [f"轮次 {data['id']} {data['year']}/{data['name']} — {data['status_label']} {data['status']}",
             f"模型 model {data['model']['name']} (sha256 {data['model']['hash'][:12]}), 数据截止 cutoff {data['cutoff']}, "
             f"预算 budget {yuan(data['budget'])}, 单项上限 max {yuan(data['max_award'])}, 汇总 "
             f"{vocab.AGGREGATIONS.zh(data['aggregation'])}, 至少 {data['min_experts']} 位专家, 公示 {data['publicity_days']} 天",
             f"专家 experts ({len(data['experts'])}): {', '.join(data['experts']) or '—'}"]
    for c in data["candidates"]:
        line = f"  {c['community']}  {c['applicant'] or ''}  形式审查 {c['check_label']}"
        if c["check_reason"]:
            line += f"（{c['check_reason']}）"
        if c["conflicts"]:
            line += "  回避 " + "、".join(x["expert"] for x in c["conflicts"])
        if "experts_complete" in c:
            line += f"  完整评分 {c['experts_complete']} 位专家"
        if c["scores"]:
            line += f"  评分 {len(c['scores'])} 项"
        lines.append(line)
    if not data["candidates"]:
        lines.append("  尚无申报 / no applications yet: mtx rounds apply ROUND COMMUNITY --applicant ORG")
    return "\n".join(lines)
