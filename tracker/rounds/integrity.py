"""Integrity flags (诚信提示): signs that a candidate's numbers were pushed up just before the cutoff.

No scoring anchor has these, and a flag never changes a score: it is shown to the committee next to the results, with
the numbers that raised it, so that the committee can ask. Three rules, thresholds in ``config/rounds.yaml``
(``integrity:``, :class:`tracker.rounds.checklist.Integrity`); all days are Beijing days ending at the cutoff, and a
measure exactly at its threshold does not flag (compared exactly, as fractions, so 3.0 is never "above" 3):

- ``commit_burst``: the weekly commit rate of the last ``burst_days`` (60) days is above ``burst_ratio`` (3) times
  the weekly average of the last ``window_days`` (365): ``c60 / (60/7) > 3 × c365 / (365/7)``.
- ``newcomer_commits``: more than ``newcomer_share`` (30 %) of the ``window_days`` commits are by people first seen in
  the last ``newcomer_days`` (90) days: whose first counted commit in that community, ever, is that recent.
- ``star_jump``: the stars of the community's repositories (the latest snapshot on or before the cutoff) are more than
  ``star_ratio`` (5) times those of the latest snapshot on or before ``star_days`` (30) days earlier. Only
  repositories with a star count in both snapshots are added up: one first collected in between has no "before", and
  counting it as 0 would make a newly collected repository look like a jump. With no stars at all before, the ratio
  is taken against one star and the flag also needs at least ``star_from_zero`` (20) stars now, so that a community
  whose first few stars arrive is not flagged while 0 → 500 is. Nothing to compare (no repository with both): no flag.

Commits are counted as every metric counts them (docs/metrics.md: bots and merges out, a mirrored sha once) by reading
the activity aggregates: ``activity_days`` for the windows, ``activity_people`` (kind ``c``) for when a person was
first seen in a community.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from tracker.formatting import beijing_day_end
from tracker.models import ActivityDay, ActivityPerson, CommunityRepository, RepositorySnapshot
from tracker.rounds.checklist import Integrity

CHUNK = 500

LABELS = {"commit_burst": "提交量突增", "newcomer_commits": "新人提交占比过高", "star_jump": "星标数突增"}


@dataclass(frozen=True)
class Flag:
    code: str          # "commit_burst" | "newcomer_commits" | "star_jump"
    label_zh: str
    detail: str        # "中文 / English", with the numbers
    value: float       # the measured ratio (commit_burst, star_jump) or share (newcomer_commits)
    threshold: float

    def as_dict(self) -> dict:
        return {"code": self.code, "label": self.label_zh, "detail": self.detail, "value": self.value,
                "threshold": self.threshold}


def integrity_flags(session: Session, community_ids: list[int], cutoff: dt.date,
                    thresholds: Integrity) -> dict[int, list[Flag]]:
    """community id -> its flags as of the cutoff (an empty list when none), for every id asked about.

    Brings the activity aggregates up to date first, as `mtx metrics` does (in this transaction: the caller commits).
    """
    from tracker.metrics import activity

    ids = sorted(set(community_ids))
    out: dict[int, list[Flag]] = {cid: [] for cid in ids}
    if not ids:
        return out
    activity.ensure_current(session)
    commits = _commits(session, ids, cutoff, thresholds)
    stars = _stars(session, ids, cutoff, thresholds.star_days)
    for cid in ids:
        recent, total, newcomer, newcomers = commits.get(cid, (0, 0, 0, 0))
        flag = _burst(recent, total, thresholds)
        if flag:
            out[cid].append(flag)
        flag = _newcomers(newcomer, total, newcomers, thresholds)
        if flag:
            out[cid].append(flag)
        if cid in stars:
            flag = _star_jump(*stars[cid], thresholds)
            if flag:
                out[cid].append(flag)
    return out


# --- reading ----------------------------------------------------------------------------------------------------------


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _commits(session: Session, ids: list[int], cutoff: dt.date,
             t: Integrity) -> dict[int, tuple[int, int, int, int]]:
    """community -> (commits in burst_days, commits in window_days, of those by newcomers, newcomers who committed)."""
    window_first = cutoff - dt.timedelta(days=t.window_days - 1)
    burst_first = cutoff - dt.timedelta(days=t.burst_days - 1)
    seen_from = beijing_day_end(cutoff - dt.timedelta(days=t.newcomer_days))  # the start of the first newcomer day
    d, p = ActivityDay, ActivityPerson
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for chunk in _chunks(ids):
        per_person = (select(d.community_id, d.person_id, func.sum(d.commits).label("total"),
                             func.sum(case((d.day >= burst_first, d.commits), else_=0)).label("recent"))
                      .where(d.community_id.in_(chunk), d.day >= window_first, d.day <= cutoff)
                      .group_by(d.community_id, d.person_id).subquery())
        first = (select(p.scope_id, p.person_id).where(p.kind == "c", p.scope_id.in_(chunk), p.first_at >= seen_from)
                 .subquery())
        stmt = (select(per_person.c.community_id, per_person.c.total, per_person.c.recent,
                       first.c.person_id.is_not(None))
                .outerjoin(first, and_(first.c.scope_id == per_person.c.community_id,
                                       first.c.person_id == per_person.c.person_id)))
        for cid, total, recent, is_new in session.execute(stmt):
            row = out[cid]
            row[0] += int(recent or 0)
            row[1] += int(total or 0)
            if is_new:
                row[2] += int(total or 0)
                row[3] += 1
    return {cid: tuple(row) for cid, row in out.items()}


def _stars_on(session: Session, repo_ids: list[int], day: dt.date) -> dict[int, int]:
    """repository -> stars of its latest snapshot taken on or before ``day`` (repositories without a count left out)."""
    s = RepositorySnapshot
    out = {}
    for chunk in _chunks(repo_ids):
        latest = (select(s.repository_id, func.max(s.taken_on).label("taken_on"))
                  .where(s.repository_id.in_(chunk), s.taken_on <= day).group_by(s.repository_id).subquery())
        for rid, stars in session.execute(
                select(s.repository_id, s.stars).join(latest, and_(latest.c.repository_id == s.repository_id,
                                                                   latest.c.taken_on == s.taken_on))):
            if stars is not None:
                out[rid] = int(stars)
    return out


def _stars(session: Session, ids: list[int], cutoff: dt.date, days: int) -> dict[int, tuple[int, int, int]]:
    """community -> (stars then, stars now, repositories compared), over repositories with a count in both."""
    members: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(ids):
        for cid, rid in session.execute(select(CommunityRepository.community_id, CommunityRepository.repository_id)
                                        .where(CommunityRepository.community_id.in_(chunk))):
            members[cid].append(rid)
    repos = sorted({rid for rids in members.values() for rid in rids})
    now = _stars_on(session, repos, cutoff)
    then = _stars_on(session, repos, cutoff - dt.timedelta(days=days))
    out = {}
    for cid, rids in members.items():
        both = [rid for rid in rids if rid in now and rid in then]
        if both:
            out[cid] = (sum(then[r] for r in both), sum(now[r] for r in both), len(both))
    return out


# --- the rules --------------------------------------------------------------------------------------------------------


def _above(measure: Fraction, threshold: float) -> bool:
    return measure > Fraction(str(threshold))  # the threshold as written in the file: 0.3 is 3/10, not 0.29999…


def _times(value: float, threshold: float) -> str:
    """One decimal, or two where one would read as the threshold itself (3.04 is above 3, "3.0" would not say so)."""
    text = f"{value:.1f}"
    return text if abs(float(text) - threshold) > 1e-9 else f"{value:.2f}"


def _window(days: int) -> tuple[str, str]:
    return ("12 个月", "12-month") if days == 365 else (f"{days} 天", f"{days}-day")


def _burst(recent: int, total: int, t: Integrity) -> Flag | None:
    if not recent:
        return None
    measure = Fraction(recent * t.window_days, total * t.burst_days)  # (recent / (b/7)) / (total / (w/7))
    if not _above(measure, t.burst_ratio):
        return None
    ratio = float(measure)
    weekly_recent, weekly_total = recent / (t.burst_days / 7), total / (t.window_days / 7)
    zh, en = _window(t.window_days)
    times = _times(ratio, t.burst_ratio)
    return Flag("commit_burst", LABELS["commit_burst"],
                f"截止前 {t.burst_days} 天提交 {recent} 次（周均 {weekly_recent:.1f} 次），为 {zh}周均值 "
                f"{weekly_total:.1f} 次的 {times} 倍，阈值 {t.burst_ratio:g} 倍 / {recent} commits in the "
                f"{t.burst_days} days before the cutoff ({weekly_recent:.1f} a week), {times}× the {en} weekly "
                f"average of {weekly_total:.1f}; threshold {t.burst_ratio:g}×",
                ratio, float(t.burst_ratio))


def _newcomers(newcomer: int, total: int, people: int, t: Integrity) -> Flag | None:
    if not total:
        return None
    measure = Fraction(newcomer, total)
    if not _above(measure, t.newcomer_share):
        return None
    share = float(measure)
    return Flag("newcomer_commits", LABELS["newcomer_commits"],
                f"截止前 {t.window_days} 天的 {total} 次提交中，{newcomer} 次（{share:.1%}）来自截止前 "
                f"{t.newcomer_days} 天内首次在该社区提交的 {people} 人，阈值 {t.newcomer_share:.0%} / {newcomer} of "
                f"the {total} commits in the {t.window_days} days before the cutoff ({share:.1%}) are by {people} "
                f"people first seen in this community in the last {t.newcomer_days} days; threshold "
                f"{t.newcomer_share:.0%}",
                share, float(t.newcomer_share))


def _star_jump(then: int, now: int, repositories: int, t: Integrity) -> Flag | None:
    measure = Fraction(now, max(then, 1))
    if not _above(measure, t.star_ratio) or (then == 0 and now < t.star_from_zero):
        return None
    ratio = float(measure)
    times = _times(ratio, t.star_ratio)
    zh_zero = f"；起点为 0 星，按 1 星计（且至少 {t.star_from_zero} 星才提示）" if then == 0 else ""
    en_zero = f"; from no stars, counted against one (and flagged from {t.star_from_zero} stars)" if then == 0 else ""
    return Flag("star_jump", LABELS["star_jump"],
                f"星标数 {t.star_days} 天内由 {then} 增至 {now}（{repositories} 个仓库），为原来的 {times} 倍，阈值 "
                f"{t.star_ratio:g} 倍{zh_zero} / stars went from {then} to {now} in the {t.star_days} days before "
                f"the cutoff ({repositories} repositories), {times}×; threshold {t.star_ratio:g}×{en_zero}",
                ratio, float(t.star_ratio))
