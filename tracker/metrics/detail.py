"""社区详情 / one community in detail: its score explained (as `mtx score --explain` explains it), its activity over
24 Beijing months, its repositories with their mirror overlap, its organisations and its top contributors.

Everything counts as the metrics count (docs/metrics.md): bots and merge commits left out, a sha in several
repositories of the community once, people as resolved, months and windows in Beijing dates. Commit figures come from
the activity aggregates; issues, pull requests and repositories from their own tables, per repository. A series or a
table whose data was not collected is *unavailable* with the metrics' reason, never zeros. The long lists (the
repositories, the contributors) are paged by the database. Administrators and evaluators only.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, case, distinct, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from collector import registry as platforms
from tracker import vocab
from tracker.access import Actor, require_role
from tracker.formatting import beijing_day_end, beijing_today
from tracker.metrics import activity
from tracker.metrics.compute import DEFAULT_STALE_AFTER_DAYS, MetricsError, compute_metrics
from tracker.metrics.registry import ALL, signals as registered
from tracker.models import (ActivityDay, CollectionStream, Commit, CommitIdentity, Community, CommunityRepository,
                            Issue, Organisation, Person, PullRequest, Repository)
from tracker.people.attribution import commit_attribution
from tracker.people.rules import mask_email
from tracker.sqlutil import beijing_month, month_of_day

MONTHS = 24
UNAFFILIATED = "个人（无所属组织）"
# the series of the monthly charts, each with the signal whose standing (collected, provided) it shares
SERIES = {"commits": "contributor_count", "contributors": "contributor_count", "issues": "closed_issues_count",
          "pulls": "closed_prs_count"}


def may_read(actor: Actor) -> None:
    """Administrators and evaluators see a community's details; anyone else is refused."""
    _may_read(actor)


def _may_read(actor: Actor) -> None:
    require_role(actor, "admin", "evaluator", action="see a community's details")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _community(session: Session, slug: str) -> Community:
    community = session.scalar(select(Community).where(Community.slug == slug))
    if community is None:
        raise MetricsError(f"没有社区 / no community with slug {slug!r}; `mtx status --communities` lists them")
    return community


def _window_start(as_of: dt.date, window) -> dt.date | None:
    return None if window in (None, ALL) else as_of - dt.timedelta(days=int(window) - 1)


# --- the chooser ------------------------------------------------------------------------------------------------------


def community_choices(session: Session, actor: Actor, focus: str | None = None) -> list[tuple[str, str, str]]:
    """(slug, Chinese name, focus field) of every community (of ``focus``), ordered by name."""
    _may_read(actor)
    stmt = select(Community.slug, Community.name_zh, Community.focus).order_by(Community.name_zh, Community.slug)
    if focus is not None:
        stmt = stmt.where(Community.focus == focus)
    return [tuple(row) for row in session.execute(stmt)]


# --- the score, explained ---------------------------------------------------------------------------------------------


@dataclass
class SignalRow:
    signal: str
    label: str
    value: float | int | None
    value_text: str
    points: float
    max_points: float
    percentile: float | None
    reason: str | None          # METRIC_REASONS value, or None


@dataclass
class Explanation:
    slug: str
    name: str
    focus: str | None
    as_of: dt.date
    model: str
    model_hash: str
    max_score: float
    pending: list[str]
    score: float | None
    rank: int | None            # among every community, as `mtx score --explain` ranks
    focus_rank: int | None      # among the communities of its focus field (the ranking page with that field chosen)
    coverage: float
    status: str
    reason: str | None
    peers: int
    signals: list[SignalRow]
    gaps: list[tuple[str, str, float]]   # (signal, label, points below the peers' median)
    windows: dict[str, int | str | None]
    json: dict = field(repr=False, default_factory=dict)   # exactly `mtx score --explain SLUG --json`

    @property
    def missing(self) -> list[SignalRow]:
        return [s for s in self.signals if s.value is None]


def signal_labels(model) -> dict[str, str]:
    """Chinese label of each signal: the model's, else the metrics registry's (as `mtx score --explain` labels)."""
    labels = {s.name: s.label_zh for s in model.signals}
    labels.update({n: d.label_zh for n, d in registered().items() if n not in labels})
    return labels


def _value_text(signal: str, value) -> str:
    from tracker.formatting import NONE

    if value is None:
        return NONE
    definition = registered().get(signal)
    if definition is not None and definition.unit == "share":
        return f"{value * 100:.1f}%"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def explain(session: Session, actor: Actor, slug: str, model_ref: str, config_dir: Path | str, *,
            as_of: dt.date | None = None, stale_after_days: int = DEFAULT_STALE_AFTER_DAYS,
            ranking: tuple | None = None) -> Explanation:
    """Why ``slug`` scores what it does: the live ranking's scores (tracker.scoring.live, as `mtx score --explain`),
    points per signal, what is missing and why, percentiles among its focus field, the three largest gaps.

    ``ranking``: the (scores, report, model) that `live_ranking` returned for every focus field with the same model
    and as-of, when the caller has it already (the app keeps it): then nothing is computed again."""
    from tracker.scoring.engine import rank_results
    from tracker.scoring.live import explain_json, live_ranking

    _may_read(actor)
    if ranking is None:
        ranking = live_ranking(session, actor, model_ref, config_dir, as_of=as_of, stale_after_days=stale_after_days)
    scores, report, model = ranking
    if len(scores.results) != len(report.scopes):
        raise ValueError("explain(ranking=...) needs the ranking of every focus field (focus=None)")
    scope = next((s for s in report.scopes if s.key == slug), None)
    if scope is None:
        raise MetricsError(f"没有社区 / no community with slug {slug!r}; `mtx status --communities` lists them")
    data = explain_json(scores, slug)
    in_field = rank_results(r.result for r in scores.results if r.focus == scope.focus)
    focus_rank = next(r.rank for r in in_field if r.name == slug)
    labels = signal_labels(model)
    row = data["results"][0]
    rows = [SignalRow(name, labels.get(name, name), s["value"], _value_text(name, s["value"]), s["points"],
                      s["max_points"], s["percentile"], s["reason"]) for name, s in row["signals"].items()]
    return Explanation(slug, scope.name, scope.focus, report.as_of, model.name, scores.model_hash, scores.max_score,
                       scores.pending, row["score"], row["rank"], focus_rank, row["coverage"], row["status"],
                       row["reason"], data["peers"], rows,
                       [(g["signal"], labels.get(g["signal"], g["signal"]), g["points_below_median"])
                        for g in data["gaps"]], report.windows, data)


# --- activity month by month ------------------------------------------------------------------------------------------


def month_range(as_of: dt.date, months: int = MONTHS) -> list[str]:
    """'YYYY-MM' of the ``months`` Beijing months ending with the one of ``as_of`` (that one up to as-of)."""
    last = as_of.year * 12 + as_of.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(last - months + 1, last + 1)]


@dataclass
class MonthlyActivity:
    months: list[str]
    series: dict[str, list[int] | None]        # commits / contributors / issues / pulls; None: unavailable
    reasons: dict[str, str | None]             # why a series is unavailable (METRIC_REASONS value)
    not_collected: dict[str, list[str]]        # repositories behind a "not collected"


def monthly_activity(session: Session, actor: Actor, slug: str, as_of: dt.date, months: int = MONTHS,
                     stale_after_days: int = DEFAULT_STALE_AFTER_DAYS) -> MonthlyActivity:
    """Commits, contributors (distinct people in the month), issues opened and pull requests opened per Beijing
    month, for the ``months`` months up to ``as_of``. A series is unavailable exactly when the metrics' signal of
    the same streams is (its repositories not collected, or none that provides the stream)."""
    _may_read(actor)
    community = _community(session, slug)
    dialect = _dialect(session)
    labels = month_range(as_of, months)
    first = dt.date(int(labels[0][:4]), int(labels[0][5:]), 1)
    standing = compute_metrics(session, actor, as_of=as_of, communities=[slug], names=sorted(set(SERIES.values())),
                               stale_after_days=stale_after_days).scopes[0].signals
    d = ActivityDay
    month = month_of_day(d.day, dialect)
    commits, people = {}, {}
    for m, n, p in session.execute(select(month, func.sum(d.commits), func.count(distinct(d.person_id)))
                                   .where(d.community_id == community.id, d.day >= first, d.day <= as_of)
                                   .group_by(month)):
        commits[m], people[m] = int(n), int(p)
    repos = select(CommunityRepository.repository_id).where(CommunityRepository.community_id == community.id)
    start, end = beijing_day_end(first - dt.timedelta(days=1)), beijing_day_end(as_of)

    def opened(model) -> dict[str, int]:
        m = beijing_month(model.created_at, dialect)
        out = {}
        for value, n in session.execute(select(m, func.count()).where(model.repository_id.in_(repos),
                                                                      model.created_at >= start,
                                                                      model.created_at < end).group_by(m)):
            out[str(value)[:7]] = int(n)
        return out

    counts = {"commits": commits, "contributors": people, "issues": opened(Issue), "pulls": opened(PullRequest)}
    series, reasons, missing = {}, {}, {}
    for name, signal in SERIES.items():
        value = standing[signal]
        unavailable = value.reason in ("not collected", "not provided")
        reasons[name] = value.reason if unavailable else None
        missing[name] = list(value.not_collected)
        series[name] = None if unavailable else [counts[name].get(m, 0) for m in labels]
    return MonthlyActivity(labels, series, reasons, missing)


# --- repositories -----------------------------------------------------------------------------------------------------


@dataclass
class Paged:
    total: int
    page: int
    per_page: int
    rows: list[dict]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page_bounds(page: int, per_page: int) -> tuple[int, int]:
    if per_page < 1 or page < 1:
        raise ValueError("page and per_page start at 1")
    return page, (page - 1) * per_page


def repositories(session: Session, actor: Actor, slug: str, as_of: dt.date, *, page: int = 1, per_page: int = 20,
                 now: dt.datetime | None = None,
                 stale_after_days: int = DEFAULT_STALE_AFTER_DAYS) -> Paged:
    """One page of the community's repositories (by platform, path): platform label, state, when every stream its
    platform serves was last collected to its end (the stalest one; None: one never was), whether that covers
    as-of (as the metrics decide), counted commits up to as-of, and the share of them whose sha is also in another
    repository of the community (mirror overlap; None without commits), computed by the database."""
    _may_read(actor)
    page, offset = _page_bounds(page, per_page)
    community = _community(session, slug)
    link = CommunityRepository
    total = session.scalar(select(func.count()).select_from(link).where(link.community_id == community.id)) or 0
    r = Repository
    listed = session.execute(select(r.id, r.platform, r.path, r.web_url, r.state, r.missing_since)
                             .join(link, link.repository_id == r.id).where(link.community_id == community.id)
                             .order_by(r.platform, r.path, r.id).limit(per_page).offset(offset)).all()
    ids = [row.id for row in listed]
    end = beijing_day_end(as_of)
    commits, mirrored = {}, {}
    if ids:
        a = commit_attribution(_dialect(session)).where(Commit.repository_id.in_(ids), Commit.author_time < end,
                                                        Commit.is_merge.is_(False)).subquery()
        other, other_link = aliased(Commit), aliased(CommunityRepository)
        also = exists(select(literal(1)).select_from(other)
                      .join(other_link, other_link.repository_id == other.repository_id)
                      .where(other.sha == a.c.sha, other.repository_id != a.c.repository_id,
                             other_link.community_id == community.id))
        for rid, n, m in session.execute(
                select(a.c.repository_id, func.count(distinct(a.c.commit_id)),
                       func.count(distinct(case((also, a.c.commit_id)))))
                .where(a.c.is_bot.is_(False)).group_by(a.c.repository_id)):
            commits[rid], mirrored[rid] = int(n), int(m)
    streams: dict[int, dict[str, dt.datetime | None]] = {}
    for rid, stream, success in session.execute(select(CollectionStream.repository_id, CollectionStream.stream,
                                                       CollectionStream.last_success_at)
                                                .where(CollectionStream.repository_id.in_(ids))):
        streams.setdefault(rid, {})[stream] = success
    now = now or dt.datetime.now(dt.timezone.utc)
    recent = now - dt.timedelta(days=stale_after_days) if as_of == beijing_today(now) else None
    rows = []
    for row in listed:
        declared = platforms.find(row.platform)
        served = declared.streams if declared else ()
        times = [streams.get(row.id, {}).get(s) for s in served]
        collected = None if not times or any(t is None for t in times) else min(times)
        covers = collected is not None and (collected >= end or (recent is not None and collected >= recent))
        n = commits.get(row.id, 0)
        rows.append({"platform": row.platform, "platform_label": platforms.label(row.platform), "path": row.path,
                     "web_url": row.web_url, "state": row.state, "listed": row.missing_since is None,
                     "collected_at": collected, "covers_as_of": covers, "commits": n,
                     "mirrored_commits": mirrored.get(row.id, 0),
                     "mirror_overlap": (mirrored.get(row.id, 0) / n) if n else None})
    return Paged(total, page, per_page, rows)


# --- organisations and contributors -----------------------------------------------------------------------------------


def _commit_window(community_id: int, as_of: dt.date, window):
    d = ActivityDay
    conditions = [d.community_id == community_id, d.day <= as_of]
    start = _window_start(as_of, window)
    if start is not None:
        conditions.append(d.day >= start)
    return and_(*conditions)


@dataclass
class Organisations:
    window: int | str | None
    commits: int
    rows: list[dict]          # organisation (None: unaffiliated), name, kind, commits, share — largest first


def organisations(session: Session, actor: Actor, slug: str, as_of: dt.date, window=365) -> Organisations:
    """The organisations of the community's commits in the window (affiliation on the commit date, as the metrics
    attribute them), each with its share of all counted commits; authors with none are one row, unaffiliated."""
    _may_read(actor)
    community = _community(session, slug)
    activity.ensure_current(session)
    d = ActivityDay
    rows = session.execute(select(d.organisation_id, func.sum(d.commits))
                           .where(_commit_window(community.id, as_of, window))
                           .group_by(d.organisation_id)).all()
    ids = [oid for oid, _ in rows if oid]
    orgs = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(ids)))} if ids else {}
    total = sum(int(n) for _, n in rows)
    out = []
    for oid, n in rows:
        org = orgs.get(oid) if oid else None
        out.append({"organisation": oid or None, "name": org.name if org else UNAFFILIATED,
                    "kind": vocab.ORGANISATION_KINDS.zh(org.kind) if org else vocab.ORGANISATION_KINDS.zh("individual"),
                    "commits": int(n), "share": int(n) / total if total else None})
    out.sort(key=lambda row: (-row["commits"], row["name"]))
    return Organisations(window, total, out)


def top_contributors(session: Session, actor: Actor, slug: str, as_of: dt.date, window=365, *, page: int = 1,
                     per_page: int = 20) -> Paged:
    """One page of the community's contributors in the window, most commits first: the person's name, a masked
    e-mail, commits, their latest commit and their organisation with the most of those commits."""
    _may_read(actor)
    page, offset = _page_bounds(page, per_page)
    community = _community(session, slug)
    activity.ensure_current(session)
    d = ActivityDay
    where = _commit_window(community.id, as_of, window)
    total = session.scalar(select(func.count(distinct(d.person_id))).where(where)) or 0
    commits = func.sum(d.commits).label("commits")
    listed = session.execute(select(d.person_id, commits, func.max(d.last_at)).where(where)
                             .group_by(d.person_id).order_by(commits.desc(), d.person_id)
                             .limit(per_page).offset(offset)).all()
    people = [pid for pid, _, _ in listed]
    names, emails = _names_and_emails(session, people)
    by_org: dict[int, list[tuple[int, int]]] = {}
    if people:
        for pid, oid, n in session.execute(select(d.person_id, d.organisation_id, func.sum(d.commits))
                                           .where(where, d.person_id.in_(people))
                                           .group_by(d.person_id, d.organisation_id)):
            by_org.setdefault(pid, []).append((int(n), oid))
    org_ids = {max(pairs, key=lambda p: (p[0], -p[1]))[1] for pairs in by_org.values()} - {0}
    org_names = dict(session.execute(select(Organisation.id, Organisation.name)
                                     .where(Organisation.id.in_(org_ids))).all()) if org_ids else {}
    rows = []
    for rank, (pid, n, last) in enumerate(listed, start=offset + 1):
        top = max(by_org.get(pid, [(0, 0)]), key=lambda p: (p[0], -p[1]))[1]
        rows.append({"rank": rank, "person": pid, "name": names.get(pid) or "—", "email": emails.get(pid, ""),
                     "commits": int(n), "last_at": activity_time(last),
                     "organisation": org_names.get(top, UNAFFILIATED)})
    return Paged(total, page, per_page, rows)


def activity_time(value) -> dt.datetime | None:
    """An aggregate's time as an aware UTC datetime (SQLite gives text back from max())."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _names_and_emails(session: Session, people: list[int]) -> tuple[dict[int, str], dict[int, str]]:
    """Each person's display name and one e-mail of theirs, masked (a negative id: an identity not resolved yet)."""
    names: dict[int, str] = {}
    emails: dict[int, str] = {}
    resolved = [p for p in people if p > 0]
    if resolved:
        names.update(session.execute(select(Person.id, Person.display_name).where(Person.id.in_(resolved))).all())
        for pid, email in session.execute(select(CommitIdentity.person_id, func.min(CommitIdentity.email))
                                          .where(CommitIdentity.person_id.in_(resolved),
                                                 CommitIdentity.email.is_not(None), CommitIdentity.email != "")
                                          .group_by(CommitIdentity.person_id)):
            emails[pid] = mask_email(email)
    identities = [-p for p in people if p < 0]
    if identities:
        for iid, name, email in session.execute(select(CommitIdentity.id, CommitIdentity.name, CommitIdentity.email)
                                                .where(CommitIdentity.id.in_(identities))):
            names[-iid] = name
            emails[-iid] = mask_email(email)
    return names, emails

