"""An expert's candidates and their scores as the app's 评审轮次 page shows and saves them.

The page's score form is the score sheet one candidate at a time: each rating is checked as the sheet's cells are
(`scoresheet.check_rating`: a number on the signal's scale, or empty), nothing is written while a problem remains, and a
save replaces that expert's scores for that candidate — the same `expert_scores` rows and the same audit action
(`round.import_scores`, with `source: form` and the community) as `mtx rounds import-scores`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker import audit, vocab
from tracker.access import Actor
from tracker.models import Community, ExpertScore, RoundConflict, SignalValue, utcnow
from tracker.rounds import lifecycle as L
from tracker.rounds.scoresheet import _rows, check_rating, scale_text


@dataclass(frozen=True)
class RatingSignal:
    name: str
    label_zh: str
    description: str
    threshold: float
    weight: float

    @property
    def scale(self) -> str:
        return scale_text(self)


@dataclass
class FormCandidate:
    slug: str
    name: str
    applicant: str | None
    conflicted: bool                        # 回避: shown, never editable
    conflict_reason: str | None
    scores: dict[str, float | None]         # this expert's current rating per expert signal (None: not rated)
    comment: str | None
    frozen: dict[str, tuple[float | None, str | None]]  # the frozen quantitative signals: (value, reason)

    @property
    def complete(self) -> bool:
        return not self.conflicted and all(v is not None for v in self.scores.values())


@dataclass
class ExpertSheet:
    round_id: int
    round_name: str
    status: str
    status_label: str
    editable: bool                          # scores can be entered only while the round is frozen
    signals: list[RatingSignal]
    quantitative: list[tuple[str, str]]     # (name, label) of the model's other signals, for the reference columns
    candidates: list[FormCandidate]

    @property
    def done(self) -> int:
        return sum(c.complete for c in self.candidates)

    @property
    def to_score(self) -> int:
        return sum(not c.conflicted for c in self.candidates)


@dataclass
class FormProblem:
    field: str          # the signal's label (or 评语)
    value: str
    code: str
    message: str
    fix: str


@dataclass
class FormResult:
    problems: list[FormProblem] = field(default_factory=list)
    written: bool = False
    scores: int = 0
    replaced: int = 0


def _signals(round_) -> list[RatingSignal]:
    return [RatingSignal(s.name, s.label_zh or s.name, s.description or "", float(s.threshold), float(s.weight))
            for s in L.expert_signals(L.round_model(round_))]


def expert_sheet(session: Session, actor: Actor, round_, expert: str) -> ExpertSheet:
    """The expert's candidates (passed the check; conflicted ones marked 回避), with their current ratings."""
    L.require_office_or_expert(session, actor, round_, expert, "查看评分 / see scores")
    if not L._is_expert(session, round_, expert):
        L._refuse(f"{expert} 不在本轮专家组中", f"{expert} is not on round {round_.id}'s panel")
    signals = _signals(round_)
    model = L.round_model(round_)
    quantitative = [(s.name, s.label_zh or s.name) for s in model.signals if not s.name.startswith("expert_")]
    rows, conflicted, every = _rows(session, round_, expert)
    reasons = dict(session.execute(select(RoundConflict.candidate_id, RoundConflict.reason)
                                   .where(RoundConflict.round_id == round_.id, RoundConflict.expert == expert)).all())
    names = dict(session.execute(select(Community.slug, Community.name_zh)
                                 .where(Community.slug.in_(list(every) or [""]))).all())
    shown = [(r.candidate, r.slug, r.name, False) for r in rows]
    shown += [(every[slug], slug, names.get(slug, slug), True) for slug in every if slug in conflicted
              and every[slug].check_status == "passed"]
    ids = [c.id for c, *_ in shown] or [-1]
    mine: dict[int, dict[str, ExpertScore]] = {}
    for score in session.scalars(select(ExpertScore).where(ExpertScore.expert == expert,
                                                           ExpertScore.candidate_id.in_(ids))):
        mine.setdefault(score.candidate_id, {})[score.signal] = score
    frozen: dict[int, dict[str, tuple[float | None, str | None]]] = {}
    for value in session.scalars(select(SignalValue).where(SignalValue.candidate_id.in_(ids))):
        frozen.setdefault(value.candidate_id, {})[value.signal] = (value.value, value.reason)
    candidates = []
    for candidate, slug, name, is_conflicted in shown:
        given = mine.get(candidate.id, {})
        comments = sorted({s.comment for s in given.values() if s.comment})
        candidates.append(FormCandidate(
            slug=slug, name=name, applicant=candidate.applicant, conflicted=is_conflicted,
            conflict_reason=reasons.get(candidate.id), comment="；".join(comments) or None,
            scores={s.name: (given[s.name].score if s.name in given else None) for s in signals},
            frozen=frozen.get(candidate.id, {})))
    return ExpertSheet(round_.id, f"{round_.year}/{round_.name}", round_.status, vocab.ROUND_STATUSES.zh(round_.status),
                       round_.status == "frozen", signals, quantitative, candidates)


def save_candidate_scores(session: Session, actor: Actor, round_, expert: str, slug: str,
                          ratings: dict[str, object], comment: str | None) -> FormResult:
    """Replace the expert's ratings of one candidate with ``ratings`` (signal name -> a number, text, or None for
    empty); nothing is written while any rating is off its scale, unknown or for a candidate they may not score."""
    L.require_office_or_expert(session, actor, round_, expert, "评分 / enter scores")
    L._need(round_, "frozen", action="评分 / enter scores")
    if not L._is_expert(session, round_, expert):
        L._refuse(f"{expert} 不在本轮专家组中", f"{expert} is not on round {round_.id}'s panel")
    signals = {s.name: s for s in _signals(round_)}
    rows, conflicted, every = _rows(session, round_, expert)
    mine = {r.slug: r.candidate for r in rows}
    result = FormResult()
    if slug in conflicted:
        L._refuse(f"已申报回避，不能为 {slug} 评分", f"{expert} withdrew from {slug} (回避): no scores for it")
    if slug not in mine:
        L._refuse(f"{slug} 不在 {expert} 的评分范围内", f"{slug} is not one of {expert}'s candidates in round {round_.id}")
    wanted: list[tuple[str, float]] = []
    for name, raw in ratings.items():
        if name not in signals:
            result.problems.append(FormProblem(name, str(raw), "form.unknown_signal", f"未知的评分项 / unknown rating {name}",
                                               f"只能填 {', '.join(signals)} / rate only {', '.join(signals)}"))
            continue
        value, bad = check_rating(signals[name], raw)
        if bad:
            result.problems.append(FormProblem(signals[name].label_zh, "" if raw is None else str(raw), *bad))
        elif value is not None:
            wanted.append((name, value))
    note = (comment or "").strip() or None
    if note and len(note) > 2000:
        result.problems.append(FormProblem("评语", note[:20] + "…", "form.comment_too_long",
                                           "评语超过 2000 字 / the comment is over 2,000 characters",
                                           "缩短评语 / shorten it"))
    if result.problems:
        return result
    candidate = mine[slug]
    current = session.scalars(select(ExpertScore).where(ExpertScore.expert == expert,
                                                        ExpertScore.candidate_id == candidate.id)).all()
    result.replaced = len(current)
    before = sorted((c.candidate_id, c.signal, c.score) for c in current)
    session.execute(delete(ExpertScore).where(ExpertScore.expert == expert, ExpertScore.candidate_id == candidate.id))
    now = utcnow()
    source = f"form:{actor.name}"
    for name, value in wanted:
        session.add(ExpertScore(candidate_id=candidate.id, expert=expert, signal=name, score=value, comment=note,
                                source=source, created_at=now))
    session.flush()
    audit.record(session, actor, "round.import_scores", "round", str(round_.id),
                 {"expert": expert, "community": slug, "scores": before},
                 {"expert": expert, "community": slug, "source": "form",
                  "scores": sorted((candidate.id, n, v) for n, v in wanted)})
    result.written, result.scores = True, len(wanted)
    return result
