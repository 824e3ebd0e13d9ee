"""After scoring: allocation within the budget, the committee's decision (集体研究), 公示 with objections, final.

    scored -> (allocate) -> decided -> publicised -> final;  an upheld objection: publicised -> decided

Money goes only to `ranked` candidates; the sum never exceeds the budget and no amount exceeds the round's maximum,
for the rule's amounts and for the committee's changes alike. Every step is audited.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import Actor, require_role
from tracker.formatting import beijing_today, yuan
from tracker.models import EvaluationRound, RoundObjection, RoundResult, utcnow
from tracker.rounds import lifecycle as L
from tracker.rounds.results import CandidateResult, compute_results

MAX_ATTACHMENT_MB = 20


def _read_attachment(path: str | Path, what: str) -> tuple[str, str, bytes]:
    path = Path(path)
    if not path.is_file():
        L._refuse(f"{what}文件不存在：{path}", f"{what}: file not found: {path}")
    data = path.read_bytes()
    if len(data) > MAX_ATTACHMENT_MB * 1024 * 1024:
        L._refuse(f"{what}文件超过 {MAX_ATTACHMENT_MB} MB", f"{what} {path.name} is over {MAX_ATTACHMENT_MB} MB: "
                  "attach a smaller file (a PDF scan)")
    if not data:
        L._refuse(f"{what}文件为空", f"{what} {path.name} is empty")
    return path.name[:300], hashlib.sha256(data).hexdigest(), data


def _store_results(session: Session, round_: EvaluationRound, results: list[CandidateResult],
                   amounts: dict[str, int]) -> None:
    """round_results: the results as allocated (a record of what the committee saw), with the rule's amounts."""
    session.execute(delete(RoundResult).where(RoundResult.round_id == round_.id))
    for r in results:
        session.add(RoundResult(round_id=round_.id, candidate_id=r.candidate_id, score=r.total, coverage=r.coverage,
                                rank=r.rank, status=r.status,
                                contributions={"quantitative": r.quantitative, "expert": r.expert_points,
                                               "ratings": {k: v.as_dict() for k, v in r.expert.items()}},
                                recommended_amount=amounts.get(r.community), decided_amount=amounts.get(r.community)))
    session.flush()


def allocate(session: Session, actor: Actor, round_: EvaluationRound, rule: str, *, tiers: list[int] | None = None,
             top: int | None = None):
    """The rule's amounts for the ranked candidates; replaces any previous allocation (audited)."""
    from tracker.rounds.allocation import AllocationError, Ranked, allocate as by_rule

    require_role(actor, "admin", action="allocate a round's budget")
    L._need(round_, "scored", "decided", action="分配资金 / allocate")
    results = compute_results(session, round_)
    ranked = [Ranked(r.community, r.rank, r.total) for r in results if r.status == "ranked"]
    try:
        allocation = by_rule(rule, ranked, budget=round_.budget, max_award=round_.max_award, tiers=tiers, top=top)
    except AllocationError as exc:
        L._refuse(exc.zh, exc.en)
    before = round_.allocation
    _store_results(session, round_, results, allocation.amounts)
    round_.allocation = {"rule": rule, "tiers": tiers, "top": top, "allocated": allocation.allocated,
                         "rest": allocation.rest, "notes": allocation.notes, "at": utcnow().isoformat(),
                         "by": actor.name}
    audit.record(session, actor, "round.allocate", "round", str(round_.id), before, round_.allocation |
                 {"amounts": allocation.amounts})
    return allocation


def _check_amounts(round_: EvaluationRound, amounts: dict[str, int], statuses: dict[str, str]) -> None:
    for slug, amount in amounts.items():
        if amount < 0:
            L._refuse(f"{slug} 的金额不能为负", f"{slug}: an amount cannot be negative")
        if amount and statuses.get(slug) != "ranked":
            L._refuse(f"{slug} 未排名（{statuses.get(slug)}），不能获得资金",
                      f"{slug} is {statuses.get(slug)}: only ranked candidates get money")
        if amount > round_.max_award:
            L._refuse(f"{slug} 的金额 {yuan(amount)} 超过单项上限 {yuan(round_.max_award)}",
                      f"{slug}: {amount} yuan is above the round's maximum {round_.max_award}")
    total = sum(amounts.values())
    if total > round_.budget:
        L._refuse(f"合计 {yuan(total)} 超过预算 {yuan(round_.budget)}",
                  f"the amounts add up to {total} yuan, over the budget of {round_.budget}")


def decide(session: Session, actor: Actor, round_: EvaluationRound, minutes: str | Path,
           changes: dict[str, int] | None = None, reasons: dict[str, str] | None = None) -> dict[str, int]:
    """Record the committee's decision: its minutes (kept with the round) and any amount it changes, with a reason."""
    require_role(actor, "admin", action="record the committee's decision")
    L._need(round_, "scored", "decided", action="记录集体研究结果 / record the decision")
    if not round_.allocation:
        L._refuse("尚未分配资金", f"round {round_.id} has no allocation yet: mtx rounds allocate first")
    name, digest, data = _read_attachment(minutes, "会议纪要 / minutes")
    rows = {slug: row for row, slug in session.execute(
        select(RoundResult, L.Community.slug).join(L.RoundCandidate, L.RoundCandidate.id == RoundResult.candidate_id)
        .join(L.Community, L.Community.id == L.RoundCandidate.community_id).where(RoundResult.round_id == round_.id))}
    changes, reasons = changes or {}, reasons or {}
    unknown = sorted(set(changes) - set(rows))
    if unknown:
        L._refuse(f"不是本轮的申报：{'、'.join(unknown)}", f"not candidates of this round: {', '.join(unknown)}")
    missing = [slug for slug in changes if not (reasons.get(slug) or "").strip()]
    if missing:
        L._refuse(f"调整金额须写明原因：{'、'.join(missing)}", f"--reason is required for each changed amount: "
                  f"{', '.join(missing)}")
    amounts = {slug: (changes[slug] if slug in changes else (row.recommended_amount or 0)) for slug, row in rows.items()}
    _check_amounts(round_, amounts, {slug: row.status for slug, row in rows.items()})
    before = {slug: row.decided_amount for slug, row in rows.items()}
    for slug, row in rows.items():
        row.decided_amount = amounts[slug] or None
        row.decision_reason = reasons.get(slug) if slug in changes else None
    round_.minutes_name, round_.minutes_sha256, round_.minutes = name, digest, data
    round_.decided_at = utcnow()
    if round_.status == "scored":
        L._advance(session, actor, round_, "decided", {"minutes": name, "sha256": digest})
    audit.record(session, actor, "round.decide", "round", str(round_.id), {"amounts": before},
                 {"amounts": {s: a for s, a in amounts.items() if a}, "changes": changes, "reasons": reasons,
                  "minutes": name, "sha256": digest})
    return {s: a for s, a in amounts.items() if a}


def publicise(session: Session, actor: Actor, round_: EvaluationRound, start: dt.date) -> dt.date:
    require_role(actor, "admin", action="start a round's 公示")
    L._need(round_, "decided", action="公示 / publicise")
    round_.publicity_start = start
    round_.publicity_end = start + dt.timedelta(days=round_.publicity_days - 1)
    round_.published_at = utcnow()
    L._advance(session, actor, round_, "publicised", {"start": start, "end": round_.publicity_end})
    return round_.publicity_end


def add_objection(session: Session, actor: Actor, round_: EvaluationRound, *, objector: str, unit: str,
                  contact: str, evidence: str | Path, text: str) -> RoundObjection:
    """A written objection during 公示: a real name (or a unit), a contact and evidence; never anonymous."""
    require_role(actor, "admin", action="record an objection")
    L._need(round_, "publicised", action="登记异议 / record an objection")
    for value, field, fix in ((objector, "--from", "the objector's real name"), (unit, "--unit", "their unit"),
                              (contact, "--contact", "a phone number or address"), (text, "--text", "the objection")):
        if not (value or "").strip() or value.strip() in ("匿名", "anonymous", "无"):
            L._refuse(f"异议须实名并写明 {field}", f"{field} is required ({fix}): anonymous objections are not accepted")
    name, digest, data = _read_attachment(evidence, "证明材料 / evidence")
    row = RoundObjection(round_id=round_.id, objector=objector.strip(), unit=unit.strip(), contact=contact.strip(),
                         text=text.strip(), evidence_name=name, evidence_sha256=digest, evidence=data,
                         received_by=actor.name, received_at=utcnow(), status="open")
    session.add(row)
    session.flush()
    audit.record(session, actor, "round.objection", "round", str(round_.id), None,
                 {"objection": row.id, "objector": row.objector, "unit": row.unit, "evidence": name,
                  "sha256": digest})
    return row


def resolve_objection(session: Session, actor: Actor, round_: EvaluationRound, objection_id: int, upheld: bool,
                      reason: str) -> RoundObjection:
    """An upheld objection returns the round to `decided`: the committee decides again and publicises again."""
    require_role(actor, "admin", action="resolve an objection")
    row = session.get(RoundObjection, objection_id)
    if row is None or row.round_id != round_.id:
        L._refuse(f"本轮没有编号为 {objection_id} 的异议", f"round {round_.id} has no objection {objection_id}")
    if row.status != "open":
        L._refuse(f"异议 {objection_id} 已处理", f"objection {objection_id} is {row.status} already")
    if not (reason or "").strip():
        L._refuse("处理异议须写明理由", "--reason is required")
    row.status = "upheld" if upheld else "rejected"
    row.resolution, row.resolved_by, row.resolved_at = reason.strip(), actor.name, utcnow()
    audit.record(session, actor, "round.objection_resolve", "round", str(round_.id), {"objection": row.id,
                 "status": "open"}, {"objection": row.id, "status": row.status, "reason": row.resolution})
    if upheld and round_.status == "publicised":
        before = round_.status
        round_.status = "decided"
        audit.record(session, actor, "round.decided", "round", str(round_.id), {"status": before},
                     {"status": "decided", "why": f"objection {row.id} upheld"})
    return row


def finalise(session: Session, actor: Actor, round_: EvaluationRound, today: dt.date | None = None) -> None:
    require_role(actor, "admin", action="finalise a round")
    L._need(round_, "publicised", action="定稿 / finalise")
    today = today or beijing_today()
    if today <= round_.publicity_end:
        L._refuse(f"公示期至 {round_.publicity_end} 结束，尚未期满", f"the 公示 runs until {round_.publicity_end} "
                  f"(today is {today}): finalise after it has ended")
    open_ = session.scalars(select(RoundObjection.id).where(RoundObjection.round_id == round_.id,
                                                            RoundObjection.status == "open")).all()
    if open_:
        L._refuse(f"尚有未处理的异议：{'、'.join(map(str, open_))}", f"objections still open: "
                  f"{', '.join(map(str, open_))}: mtx rounds objection resolve first")
    round_.final_at = utcnow()
    L._advance(session, actor, round_, "final")
