"""An evaluation round from draft to scored (part 1 of item 20's procedure), every step audited, every illegal step
refused with the reason.

    draft -> open -> checked -> frozen -> scored (-> decided -> publicised -> final: part 2)

申报 (apply, draft or open) -> 形式审查 (check each candidate, then close the check) -> freeze (every passed candidate's
signals as of the cutoff, under the round's model, stored) -> 专家评审 (experts on the panel, 回避 declared, score
sheets imported) -> close scoring. The office (administrators) runs the steps; an expert may declare their own
conflict and import their own sheet.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from common.bilingual import BilingualError
from tracker import audit, vocab
from tracker.access import Actor, require_role
from tracker.models import (Community, CommunityRepository, Enterprise, EvaluationRound, ExpertScore, Repository,
                            RoundCandidate, RoundConflict, RoundExpert, SignalValue, User, utcnow)
from tracker.rounds.checklist import Checklist, evaluate
from tracker.scoring.model import ScoringModel

ORDER = vocab.ROUND_STATUSES.values
STEP_TIME = {"open": "opened_at", "checked": "checked_at", "frozen": "frozen_at", "scored": "scored_at"}


class RoundError(BilingualError, ValueError):
    """A step the round's state or the request does not allow; the message says why and what to do."""


def _refuse(zh: str, en: str):
    raise RoundError(zh, en)


def expert_signals(model: ScoringModel) -> list:
    return [s for s in model.signals if s.name.startswith("expert_")]


def round_model(round_: EvaluationRound) -> ScoringModel:
    return ScoringModel.model_validate(round_.model_content)


# --- finding things ---------------------------------------------------------------------------------------------------


def get_round(session: Session, ref: str | int) -> EvaluationRound:
    """A round by id, or by 'YEAR/NAME'."""
    text = str(ref).strip()
    found = None
    if text.isdigit():
        found = session.get(EvaluationRound, int(text))
    elif "/" in text:
        year, name = text.split("/", 1)
        if year.isdigit():
            found = session.scalar(select(EvaluationRound).where(EvaluationRound.year == int(year),
                                                                 EvaluationRound.name == name))
    if found is None:
        _refuse(f"没有评审轮次 {text}", f"no round {text!r}: give its id (mtx rounds list) or YEAR/NAME")
    return found


def _candidate(session: Session, round_: EvaluationRound, slug: str) -> RoundCandidate:
    row = session.scalar(select(RoundCandidate).join(Community, Community.id == RoundCandidate.community_id)
                         .where(RoundCandidate.round_id == round_.id, Community.slug == slug))
    if row is None:
        _refuse(f"社区 {slug} 未申报本轮", f"{slug} has not applied to round {round_.id}: mtx rounds apply first")
    return row


def _need(round_: EvaluationRound, *statuses: str, action: str) -> None:
    if round_.status not in statuses:
        allowed = "、".join(vocab.ROUND_STATUSES.zh(s) for s in statuses)
        _refuse(f"轮次 {round_.id} 当前为「{vocab.ROUND_STATUSES.zh(round_.status)}」，只有在「{allowed}」时才能{action}",
                f"round {round_.id} is {round_.status}; {action} needs it to be {' or '.join(statuses)}")


def _advance(session: Session, actor: Actor, round_: EvaluationRound, to: str, detail: dict | None = None) -> None:
    before = round_.status
    if ORDER.index(to) != ORDER.index(before) + 1:
        _refuse(f"不能从「{vocab.ROUND_STATUSES.zh(before)}」到「{vocab.ROUND_STATUSES.zh(to)}」",
                f"round {round_.id} cannot go from {before} to {to}")
    round_.status = to
    if to in STEP_TIME:
        setattr(round_, STEP_TIME[to], utcnow())
    audit.record(session, actor, f"round.{to}", "round", str(round_.id), {"status": before},
                 {"status": to, **(detail or {})})


def _is_expert(session: Session, round_: EvaluationRound, username: str) -> bool:
    return session.scalar(select(RoundExpert.id).where(RoundExpert.round_id == round_.id,
                                                       RoundExpert.expert == username)) is not None


def require_office_or_expert(session: Session, actor: Actor, round_: EvaluationRound, expert: str, action: str) -> None:
    """Administrators for anyone; an evaluator only for themselves, and only on a round they are on."""
    if actor.role == "admin":
        return
    require_role(actor, "admin", "evaluator", action=action)
    if actor.name != expert or not _is_expert(session, round_, expert):
        _refuse(f"评审专家只能为自己{action}", f"an evaluator may {action} only for themselves, on a round they are on")


# --- the steps --------------------------------------------------------------------------------------------------------


def create_round(session: Session, actor: Actor, *, year: int, name: str, model: ScoringModel, cutoff: dt.date,
                 budget: int, max_award: int, aggregation: str = "mean", min_experts: int = 3,
                 publicity_days: int = 7) -> EvaluationRound:
    require_role(actor, "admin", action="create an evaluation round")
    from tracker.scoring.identity import model_hash

    if aggregation not in vocab.AGGREGATIONS:
        _refuse(f"未知的汇总方式 {aggregation}", f"--aggregation {aggregation!r}: use mean, trimmed or median")
    if budget <= 0 or max_award <= 0 or max_award > budget:
        _refuse("预算和单项上限须为正数，且上限不超过预算",
                f"--budget {budget} and --max-award {max_award}: both positive, the award at most the budget")
    if min_experts < 1 or publicity_days < 1:
        _refuse("专家人数和公示天数至少为 1", "--min-experts and --publicity-days are at least 1")
    if not expert_signals(model):
        _refuse(f"模型 {model.name} 没有专家评分信号（expert_*）",
                f"model {model.name} has no expert_* signals for the panel to rate: use a model with an expert part")
    if session.scalar(select(EvaluationRound.id).where(EvaluationRound.year == year, EvaluationRound.name == name)):
        _refuse(f"{year} 年已有名为「{name}」的轮次", f"a round {year}/{name} exists already: choose another name")
    round_ = EvaluationRound(year=year, name=name, data_cutoff=cutoff, model_name=model.name,
                             model_content=model.model_dump(mode="json"), model_hash=model_hash(model), budget=budget,
                             max_award=max_award, aggregation=aggregation, min_experts=min_experts,
                             publicity_days=publicity_days, status="draft", created_by=actor.name)
    session.add(round_)
    session.flush()
    audit.record(session, actor, "round.create", "round", str(round_.id), None, audit.row_dict(round_,
                 exclude=("model_content",)))
    return round_


def open_round(session: Session, actor: Actor, round_: EvaluationRound) -> None:
    require_role(actor, "admin", action="open a round for applications")
    _advance(session, actor, round_, "open")


def apply(session: Session, actor: Actor, round_: EvaluationRound, slug: str, applicant: str,
          enterprise_uscc: str | None = None) -> RoundCandidate:
    require_role(actor, "admin", action="record an application")
    _need(round_, "draft", "open", action="申报 / apply")
    community = session.scalar(select(Community).where(Community.slug == slug))
    if community is None:
        _refuse(f"没有社区 {slug}", f"no community {slug!r}: add it to config/communities.yaml and run mtx collect")
    if not applicant.strip():
        _refuse("申报单位不能为空", "--applicant is empty: name the applying organisation")
    if session.scalar(select(RoundCandidate.id).where(RoundCandidate.round_id == round_.id,
                                                      RoundCandidate.community_id == community.id)):
        _refuse(f"社区 {slug} 已申报本轮", f"{slug} has applied to round {round_.id} already (once per round)")
    uscc = None
    if enterprise_uscc:
        from tracker.ledger.uscc import check_uscc

        checked = check_uscc(enterprise_uscc)
        if not checked.ok:
            _refuse(f"统一社会信用代码 {enterprise_uscc} 无效：{checked.message}",
                    f"--enterprise {enterprise_uscc}: fix: {checked.fix}")
        uscc = checked.value
    row = RoundCandidate(round_id=round_.id, community_id=community.id, applicant=applicant.strip(),
                         enterprise_uscc=uscc, applied_by=actor.name, applied_at=utcnow(), check_status="pending")
    session.add(row)
    session.flush()
    audit.record(session, actor, "round.apply", "round_candidate", f"{round_.id}:{slug}", None,
                 {"applicant": row.applicant, "enterprise_uscc": uscc})
    return row


def checklist_items(session: Session, round_: EvaluationRound, candidate: RoundCandidate, checklist: Checklist):
    repos = session.execute(select(Repository.platform, Repository.path, Repository.licence)
                            .join(CommunityRepository, CommunityRepository.repository_id == Repository.id)
                            .where(CommunityRepository.community_id == candidate.community_id)
                            .order_by(Repository.platform, Repository.path)).all()
    enterprise = None
    if candidate.enterprise_uscc:
        found = session.execute(select(Enterprise.name, Enterprise.registered_in_chongqing)
                                .where(Enterprise.uscc == candidate.enterprise_uscc)).first()
        enterprise = tuple(found) if found else None
    same = RoundCandidate.enterprise_uscc == candidate.enterprise_uscc if candidate.enterprise_uscc else \
        RoundCandidate.applicant == candidate.applicant
    applications = session.scalar(select(func.count()).select_from(RoundCandidate)
                                  .where(RoundCandidate.round_id == round_.id, same)) or 0
    return evaluate(checklist, licences=[(f"{p}:{path}", lic) for p, path, lic in repos],
                    uscc=candidate.enterprise_uscc, enterprise=enterprise, applications=applications)


def check(session: Session, actor: Actor, round_: EvaluationRound, slug: str, passed: bool, reason: str | None,
          checklist: Checklist) -> tuple[RoundCandidate, list]:
    """The formal-check verdict on one candidate. Passing is refused while an automatic item fails."""
    require_role(actor, "admin", action="record a formal-check verdict")
    _need(round_, "open", action="形式审查 / check")
    candidate = _candidate(session, round_, slug)
    items = checklist_items(session, round_, candidate, checklist)
    failing = [i for i in items if i.passed is False]
    if passed and failing:
        _refuse("自动审查项未通过，不能判为通过：" + "；".join(f"{i.label_zh}（{i.detail}）" for i in failing),
                f"{slug} fails {', '.join(i.key for i in failing)}: record --fail with the reason, or correct the "
                "data (licence, --enterprise) and check again")
    if not passed and not (reason or "").strip():
        _refuse("不通过须写明原因", "--fail needs --reason: what was not filed as required")
    before = {"check_status": candidate.check_status, "check_reason": candidate.check_reason}
    candidate.check_status = "passed" if passed else "failed"
    candidate.check_reason = (reason or "").strip() or None
    candidate.check_items = {"items": [i.as_dict() for i in items]}
    candidate.checked_by, candidate.checked_at = actor.name, utcnow()
    audit.record(session, actor, "round.check", "round_candidate", f"{round_.id}:{slug}", before,
                 {"check_status": candidate.check_status, "check_reason": candidate.check_reason,
                  "items": [i.as_dict() for i in items]})
    return candidate, items


def close_check(session: Session, actor: Actor, round_: EvaluationRound) -> None:
    require_role(actor, "admin", action="close the formal check")
    _need(round_, "open", action="结束形式审查 / close the check")
    candidates = _candidates(session, round_)
    if not candidates:
        _refuse("本轮没有申报", f"round {round_.id} has no applications: mtx rounds apply first")
    pending = [slug for c, slug in candidates if c.check_status == "pending"]
    if pending:
        _refuse("尚有申报未出形式审查结论：" + "、".join(pending),
                f"no formal-check verdict yet for {', '.join(pending)}: mtx rounds check ROUND SLUG --pass|--fail")
    _advance(session, actor, round_, "checked", {"passed": sum(c.check_status == "passed" for c, _ in candidates),
                                                 "failed": sum(c.check_status == "failed" for c, _ in candidates)})


def _candidates(session: Session, round_: EvaluationRound) -> list[tuple[RoundCandidate, str]]:
    return [(c, slug) for c, slug in session.execute(
        select(RoundCandidate, Community.slug).join(Community, Community.id == RoundCandidate.community_id)
        .where(RoundCandidate.round_id == round_.id).order_by(RoundCandidate.applied_at, RoundCandidate.id)).all()]


def freeze(session: Session, actor: Actor, round_: EvaluationRound, *, now: dt.datetime | None = None,
           stale_after_days: int = 3, integrity=None) -> int:
    """Every passed candidate's signals as of the cutoff under the round's model, stored; returns the rows written.

    From here on the round reads only these rows: new collections, identity corrections and configuration changes
    change nothing in it."""
    require_role(actor, "admin", action="freeze a round's data")
    _need(round_, "checked", action="冻结数据 / freeze")
    from tracker.metrics.compute import compute_metrics

    passed = [(c, slug) for c, slug in _candidates(session, round_) if c.check_status == "passed"]
    if not passed:
        _refuse("没有通过形式审查的申报，无需冻结", f"round {round_.id} has no candidate that passed the check")
    model = round_model(round_)
    report = compute_metrics(session, actor, as_of=round_.data_cutoff, communities=[slug for _, slug in passed],
                             model=model, now=now, stale_after_days=stale_after_days)
    by_slug = {s.slug: s for s in report.scopes}
    written = 0
    for candidate, slug in passed:
        session.execute(delete(SignalValue).where(SignalValue.candidate_id == candidate.id))
        for name, value in by_slug[slug].signals.items():
            session.add(SignalValue(candidate_id=candidate.id, signal=name,
                                    value=None if value.value is None else float(value.value),
                                    source=f"metrics as of {round_.data_cutoff}", reason=value.reason,
                                    window=None if value.window is None else str(value.window),
                                    repositories=value.repositories))
            written += 1
    session.flush()
    if integrity is not None:  # the committee's integrity flags, as of the cutoff, kept with the frozen data
        from tracker.rounds.integrity import integrity_flags

        flags = integrity_flags(session, [c.community_id for c, _ in passed], round_.data_cutoff, integrity)
        for candidate, _ in passed:
            candidate.integrity_flags = [{"code": f.code, "label": f.label_zh, "detail": f.detail, "value": f.value,
                                          "threshold": f.threshold} for f in flags.get(candidate.community_id, [])]
    _advance(session, actor, round_, "frozen", {"signals": written, "candidates": len(passed),
                                                "model_hash": round_.model_hash, "cutoff": round_.data_cutoff})
    return written


def add_expert(session: Session, actor: Actor, round_: EvaluationRound, username: str) -> RoundExpert:
    require_role(actor, "admin", action="put an expert on a round's panel")
    _need(round_, "draft", "open", "checked", "frozen", action="增加专家 / add an expert")
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.role != "evaluator" or not user.is_active:
        _refuse(f"{username} 不是有效的评审专家用户", f"{username!r} is not an active evaluator user: "
                "mtx users add NAME --role evaluator first")
    if _is_expert(session, round_, username):
        _refuse(f"{username} 已在本轮专家组中", f"{username} is on round {round_.id}'s panel already")
    row = RoundExpert(round_id=round_.id, expert=username, added_by=actor.name, added_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor, "round.expert_add", "round", str(round_.id), None, {"expert": username})
    return row


def remove_expert(session: Session, actor: Actor, round_: EvaluationRound, username: str) -> int:
    """Take an expert off the panel; their scores in the round are discarded (audited). Returns scores discarded."""
    require_role(actor, "admin", action="take an expert off a round's panel")
    _need(round_, "draft", "open", "checked", "frozen", action="移除专家 / remove an expert")
    if not _is_expert(session, round_, username):
        _refuse(f"{username} 不在本轮专家组中", f"{username} is not on round {round_.id}'s panel")
    discarded = _discard_scores(session, actor, round_, username, None, "expert removed from the panel")
    session.execute(delete(RoundExpert).where(RoundExpert.round_id == round_.id, RoundExpert.expert == username))
    audit.record(session, actor, "round.expert_remove", "round", str(round_.id), {"expert": username},
                 {"scores_discarded": discarded})
    return discarded


def declare_conflict(session: Session, actor: Actor, round_: EvaluationRound, username: str, slug: str,
                     reason: str) -> int:
    """回避: the expert withdraws from the candidate; scores they gave it are discarded. Returns scores discarded."""
    require_office_or_expert(session, actor, round_, username, "申报回避 / declare a conflict")
    _need(round_, "draft", "open", "checked", "frozen", action="申报回避 / declare a conflict")
    if not _is_expert(session, round_, username):
        _refuse(f"{username} 不在本轮专家组中", f"{username} is not on round {round_.id}'s panel")
    if not (reason or "").strip():
        _refuse("回避须写明原因", "--reason is required: e.g. worked for the applicant in the last 3 years")
    candidate = _candidate(session, round_, slug)
    if session.scalar(select(RoundConflict.id).where(RoundConflict.candidate_id == candidate.id,
                                                     RoundConflict.expert == username)):
        _refuse(f"{username} 对 {slug} 的回避已登记", f"{username}'s conflict with {slug} is recorded already")
    session.add(RoundConflict(round_id=round_.id, candidate_id=candidate.id, expert=username, reason=reason.strip(),
                              declared_by=actor.name, declared_at=utcnow()))
    discarded = _discard_scores(session, actor, round_, username, candidate, f"conflict: {reason.strip()}")
    audit.record(session, actor, "round.conflict", "round_candidate", f"{round_.id}:{slug}", None,
                 {"expert": username, "reason": reason.strip(), "scores_discarded": discarded})
    return discarded


def _discard_scores(session: Session, actor: Actor, round_: EvaluationRound, username: str,
                    candidate: RoundCandidate | None, why: str) -> int:
    ids = [candidate.id] if candidate else [c.id for c, _ in _candidates(session, round_)]
    rows = session.scalars(select(ExpertScore).where(ExpertScore.candidate_id.in_(ids),
                                                     ExpertScore.expert == username)).all()
    if rows:
        audit.record(session, actor, "round.scores_discard", "round", str(round_.id),
                     {"expert": username, "scores": [{"candidate_id": r.candidate_id, "signal": r.signal,
                                                      "score": r.score, "comment": r.comment} for r in rows]},
                     {"why": why})
        session.execute(delete(ExpertScore).where(ExpertScore.id.in_([r.id for r in rows])))
    return len(rows)


@dataclass
class Coverage:
    slug: str
    experts: int            # non-conflicted experts with every expert signal scored
    conflicted: int
    missing: list[str]      # panel experts (not conflicted) without a complete sheet for it


def scoring_coverage(session: Session, round_: EvaluationRound) -> list[Coverage]:
    """Per passed candidate: how many experts have scored it completely."""
    signals = {s.name for s in expert_signals(round_model(round_))}
    panel = list(session.scalars(select(RoundExpert.expert).where(RoundExpert.round_id == round_.id)
                                 .order_by(RoundExpert.expert)))
    out = []
    for candidate, slug in _candidates(session, round_):
        if candidate.check_status != "passed":
            continue
        conflicted = set(session.scalars(select(RoundConflict.expert).where(RoundConflict.candidate_id == candidate.id)))
        scored: dict[str, set[str]] = {}
        for expert, signal in session.execute(select(ExpertScore.expert, ExpertScore.signal)
                                              .where(ExpertScore.candidate_id == candidate.id)):
            scored.setdefault(expert, set()).add(signal)
        complete = [e for e in panel if e not in conflicted and scored.get(e, set()) >= signals]
        missing = [e for e in panel if e not in conflicted and e not in complete]
        out.append(Coverage(slug, len(complete), len(conflicted & set(panel)), missing))
    return out


def close_scoring(session: Session, actor: Actor, round_: EvaluationRound, accept_incomplete: bool = False) -> list:
    require_role(actor, "admin", action="close a round's scoring")
    _need(round_, "frozen", action="结束评分 / close scoring")
    coverage = scoring_coverage(session, round_)
    short = [c for c in coverage if c.experts < round_.min_experts]
    if short and not accept_incomplete:
        _refuse("以下申报完整评分的专家不足 %d 人：" % round_.min_experts
                + "；".join(f"{c.slug} {c.experts} 人" for c in short),
                f"fewer than {round_.min_experts} experts scored completely: "
                + ", ".join(f"{c.slug} ({c.experts}; waiting for {', '.join(c.missing) or 'nobody'})" for c in short)
                + "; import their sheets, or close with --accept-incomplete (they become too_few_experts)")
    _advance(session, actor, round_, "scored", {"too_few_experts": [c.slug for c in short]})
    return short
