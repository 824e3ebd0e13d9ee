"""Read-only views of people and organisations for `mtx people` / `mtx orgs` (evaluators and administrators).

E-mail addresses are masked unless an administrator asks for them: they are personal data.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import distinct, exists, func, or_, select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import AccessDenied, Actor, require_role
from tracker.models import (Account, ActivityPerson, ActivityScope, Affiliation, CommitIdentity, Community,
                            CommunityRepository, IdentityCorrection, Organisation, Person, PersonSuggestion)
from tracker.people import rules as R
from tracker.people.attribution import commit_attribution
from tracker.people.corrections import person_nodes, person_of


def may_read(actor: Actor) -> None:
    """Administrators and evaluators read people and organisations (e-mails masked); anyone else is refused."""
    _may_read(actor, False)


def _may_read(actor: Actor, show_emails: bool) -> None:
    require_role(actor, "admin", "evaluator", action="read people and organisations")
    if show_emails and not actor.is_admin:
        raise AccessDenied(f"用户 {actor.name} 不能查看完整邮箱",
                           f"{actor.name} ({actor.role}) may not use --show-emails; it needs 管理员 admin")


def _email(value: str, show: bool) -> str:
    return value if show else R.mask_email(value)


def _stats(session: Session, community: str | None = None, person_id: int | None = None):
    a = commit_attribution(session.get_bind().dialect.name)
    if person_id is not None:
        a = a.where(CommitIdentity.person_id == person_id)
    a = a.subquery()
    stmt = select(a.c.person_id, func.count(distinct(a.c.sha)), func.min(a.c.author_time), func.max(a.c.author_time))
    if community:
        stmt = (stmt.join(CommunityRepository, CommunityRepository.repository_id == a.c.repository_id)
                .join(Community, Community.id == CommunityRepository.community_id).where(Community.slug == community))
    return {pid: (n, first, last) for pid, n, first, last in session.execute(stmt.group_by(a.c.person_id))}


def _latest_organisation(session: Session, person_id: int | None = None) -> dict[int, int | None]:
    """Each person's organisation on their latest commit (the dated affiliation, else the e-mail domain's)."""
    a = commit_attribution(session.get_bind().dialect.name)
    if person_id is not None:
        a = a.where(CommitIdentity.person_id == person_id)
    a = a.subquery()
    latest: dict[int, tuple] = {}
    for pid, oid, last in session.execute(select(a.c.person_id, a.c.organisation_id, func.max(a.c.author_time))
                                          .group_by(a.c.person_id, a.c.organisation_id)):
        if last is not None and (pid not in latest or last > latest[pid][0]):
            latest[pid] = (last, oid)
    return {pid: oid for pid, (_, oid) in latest.items()}


def current_organisation(session: Session, person_id: int, today: dt.date | None = None) -> int | None:
    today = today or dt.date.today()
    oid = session.scalar(select(Affiliation.organisation_id).where(
        Affiliation.person_id == person_id,
        (Affiliation.start_date.is_(None)) | (Affiliation.start_date <= today),
        (Affiliation.end_date.is_(None)) | (Affiliation.end_date > today)).limit(1))
    return oid if oid is not None else _latest_organisation(session, person_id).get(person_id)


def list_people(session: Session, actor: Actor, community: str | None = None, bots: bool = False,
                search: str | None = None, show_emails: bool = False) -> list[dict]:
    """One row per person: id, name, accounts, e-mails, commits, first/last commit, bot flag, organisation."""
    _may_read(actor, show_emails)
    if community and session.scalar(select(Community.id).where(Community.slug == community)) is None:
        raise LookupError(f"没有社区 {community} / no community with slug {community!r}")
    stats = _stats(session, community)
    accounts: dict[int, list[str]] = defaultdict(list)
    for pid, platform, login in session.execute(select(Account.person_id, Account.platform, Account.login)
                                                .where(Account.person_id.is_not(None), Account.login.is_not(None))
                                                .order_by(Account.platform, Account.login)):
        accounts[pid].append(f"{platform}:{login}")
    emails: dict[int, set[str]] = defaultdict(set)
    for pid, email in session.execute(select(CommitIdentity.person_id, CommitIdentity.email)
                                      .where(CommitIdentity.person_id.is_not(None))):
        if email:
            emails[pid].add(R.normalise_email(email))
    today = dt.date.today()
    dated = dict(session.execute(select(Affiliation.person_id, Affiliation.organisation_id).where(
        (Affiliation.start_date.is_(None)) | (Affiliation.start_date <= today),
        (Affiliation.end_date.is_(None)) | (Affiliation.end_date > today))).all())
    latest = _latest_organisation(session)
    org_names = dict(session.execute(select(Organisation.id, Organisation.name)).all())
    needle = (search or "").strip().lower()
    rows = []
    for p in session.scalars(select(Person).order_by(Person.id)):
        if bots and not p.is_bot:
            continue
        n, first, last = stats.get(p.id, (0, None, None))
        if community and not n:
            continue
        mine = sorted(emails.get(p.id, ()))
        if needle and not (needle in p.display_name.lower() or any(needle in e for e in mine)
                           or any(needle in a.lower() for a in accounts.get(p.id, ()))):
            continue
        oid = dated.get(p.id, latest.get(p.id))
        rows.append({"id": p.id, "name": p.display_name, "accounts": accounts.get(p.id, []),
                     "emails": [_email(e, show_emails) for e in mine], "commits": n,
                     "first_commit": first, "last_commit": last, "is_bot": p.is_bot,
                     "anonymous": p.is_anonymous, "organisation": org_names.get(oid)})
    return rows


def show_person(session: Session, actor: Actor, ref: str, show_emails: bool = False) -> dict:
    """Accounts, e-mails, affiliations over time, and the rule behind each join."""
    _may_read(actor, show_emails)
    pid = person_of(session, ref)
    person = session.get(Person, pid)
    shown = (lambda text: text) if show_emails else _mask_ref
    stats = _stats(session, person_id=pid).get(pid, (0, None, None))
    org_names = dict(session.execute(select(Organisation.id, Organisation.name)).all())
    identities = [{"email": _email(R.normalise_email(i.email), show_emails), "name": i.name,
                   "organisation": org_names.get(i.organisation_id), "rule": i.rule,
                   "via": shown(i.rule_via) if i.rule_via else None}
                  for i in session.scalars(select(CommitIdentity).where(CommitIdentity.person_id == pid)
                                           .order_by(CommitIdentity.email, CommitIdentity.name))]
    accounts = [{"platform": a.platform, "login": a.login, "name": a.name, "rule": a.rule,
                 "via": shown(a.rule_via) if a.rule_via else None, "platform_bot": a.platform_bot}
                for a in session.scalars(select(Account).where(Account.person_id == pid, Account.login.is_not(None))
                                         .order_by(Account.platform, Account.login))]
    affiliations = [{"organisation": org_names.get(f.organisation_id), "start": f.start_date, "end": f.end_date,
                     "source": f.source}
                    for f in session.scalars(select(Affiliation).where(Affiliation.person_id == pid)
                                             .order_by(Affiliation.start_date))]
    nodes = set(person_nodes(session, pid))
    corrections = [{"id": c.id, "kind": c.kind, "subject": shown(R.ref_of(c.subject)),
                    "object": shown(R.ref_of(c.object)) if c.object and c.kind in ("merge", "distinct") else c.object,
                    "is_bot": c.is_bot, "reason": c.reason, "actor": c.actor, "at": c.created_at}
                   for c in session.scalars(select(IdentityCorrection).where(or_(
                       IdentityCorrection.subject.in_(nodes), IdentityCorrection.object.in_(nodes)))
                       .order_by(IdentityCorrection.id))
                   if c.subject in nodes or (c.object in nodes and c.kind in ("merge", "distinct"))]
    suggestions = [{"id": s.id, "a": shown(R.ref_of(s.key_a)), "b": shown(R.ref_of(s.key_b)), "rule": s.rule,
                    "detail": s.detail}
                   for s in session.scalars(select(PersonSuggestion).where(or_(  # in SQL: there may be thousands
                       PersonSuggestion.key_a.in_(nodes), PersonSuggestion.key_b.in_(nodes)))
                       .order_by(PersonSuggestion.id))]
    return {"id": pid, "name": person.display_name, "is_bot": person.is_bot, "bot_reason": person.bot_reason,
            "anonymous": person.is_anonymous, "commits": stats[0], "first_commit": stats[1], "last_commit": stats[2],
            "organisation": org_names.get(current_organisation(session, pid)),
            "accounts": accounts, "identities": identities, "affiliations": affiliations,
            "corrections": corrections, "suggestions": suggestions}


def record_reveal(session: Session, actor: Actor, what: str, rows: int, filters: dict | None = None) -> None:
    """Audit an administrator's look at full addresses in a listing (personal data under PIPL): who, which listing,
    how many rows, with which filters — never the addresses."""
    audit.record(session, actor, "people.reveal_emails", what, None, None, {"rows": rows, **(filters or {})})


def reveal_person(session: Session, actor: Actor, ref: str) -> dict:
    """`show_person` with the full addresses, for an administrator; the look-up itself is audited (personal data)."""
    require_role(actor, "admin", action="see a person's full e-mail addresses")
    data = show_person(session, actor, ref, show_emails=True)
    audit.record(session, actor, "people.reveal_emails", "person", str(data["id"]), None,
                 {"person": data["id"], "emails": len(data["identities"])})
    return data


@dataclass(frozen=True)
class PeoplePage:
    """One page of a search: its rows, how many people match in all, and where this page starts."""

    rows: list[dict]
    total: int
    limit: int
    offset: int


MAX_PAGE = 200


def _like(column, needle: str):
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def search_people(session: Session, actor: Actor, search: str | None = None, *, limit: int = 50, offset: int = 0,
                  show_emails: bool = False) -> PeoplePage:
    """People whose name, PLATFORM:LOGIN or e-mail contains SEARCH (case-insensitive; all people without it), by id,
    one page counted and cut by the database. Each row: id, name, bot, anonymous, accounts, e-mails (masked unless
    ``show_emails``), and commits — all time, bots and merge commits left out, from the activity aggregates; None
    (unavailable) for a bot or before the aggregates are first built."""
    _may_read(actor, show_emails)
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"a page holds 1 to {MAX_PAGE} rows from offset 0 on, not limit={limit} offset={offset}")
    needle = (search or "").strip().lower()
    where = []
    if needle:
        where.append(or_(
            _like(Person.display_name, needle),
            exists().where(Account.person_id == Person.id, Account.login.is_not(None),
                           _like(Account.platform.concat(":").concat(Account.login), needle)),
            exists().where(CommitIdentity.person_id == Person.id, _like(func.trim(CommitIdentity.email), needle))))
    total = session.scalar(select(func.count()).select_from(Person).where(*where)) or 0
    people = session.execute(select(Person.id, Person.display_name, Person.is_bot, Person.is_anonymous)
                             .where(*where).order_by(Person.id).limit(limit).offset(offset)).all()
    ids = [p.id for p in people]
    accounts: dict[int, list[str]] = defaultdict(list)
    emails: dict[int, set[str]] = defaultdict(set)
    commits: dict[int, int] = {}
    if ids:
        for pid, platform, login in session.execute(select(Account.person_id, Account.platform, Account.login)
                                                    .where(Account.person_id.in_(ids), Account.login.is_not(None))
                                                    .order_by(Account.platform, Account.login)):
            accounts[pid].append(f"{platform}:{login}")
        for pid, email in session.execute(select(CommitIdentity.person_id, CommitIdentity.email)
                                          .where(CommitIdentity.person_id.in_(ids), CommitIdentity.email.is_not(None))):
            if email.strip():
                emails[pid].add(R.normalise_email(email))
        commits = dict(session.execute(select(ActivityPerson.person_id, ActivityPerson.commits).where(
            ActivityPerson.kind == "a", ActivityPerson.scope_id == 0, ActivityPerson.person_id.in_(ids))).all())
    built = session.get(ActivityScope, "all") is not None
    rows = [{"id": p.id, "name": p.display_name, "is_bot": bool(p.is_bot), "anonymous": bool(p.is_anonymous),
             "accounts": accounts.get(p.id, []),
             "emails": [_email(e, show_emails) for e in sorted(emails.get(p.id, ()))],
             "commits": None if p.is_bot or not built else commits.get(p.id, 0)} for p in people]
    return PeoplePage(rows, total, limit, offset)


def _mask_ref(text: str) -> str:
    return R.mask_email(text) if "@" in text else text


def list_suggestions(session: Session, actor: Actor, show_emails: bool = False) -> list[dict]:
    _may_read(actor, show_emails)
    shown = (lambda text: text) if show_emails else _mask_ref
    return [{"id": s.id, "a": shown(R.ref_of(s.key_a)), "b": shown(R.ref_of(s.key_b)), "rule": s.rule,
             "detail": s.detail if show_emails else _mask_detail(s.detail)}
            for s in session.scalars(select(PersonSuggestion).order_by(PersonSuggestion.id))]


def _mask_detail(text: str | None) -> str | None:
    return " ".join(_mask_ref(w) for w in text.split(" ")) if text else text


def list_organisations(session: Session, actor: Actor, unverified: bool = False,
                       configured_domains: dict[str, list[str]] | None = None) -> list[dict]:
    """Organisations with contributors (people, bots excluded) and commits (once per sha) attributed to them."""
    _may_read(actor, False)
    a = commit_attribution(session.get_bind().dialect.name).subquery()
    counts = {oid: (people, commits) for oid, people, commits in session.execute(
        select(a.c.organisation_id, func.count(distinct(a.c.person_id)), func.count(distinct(a.c.sha)))
        .where(a.c.is_bot.is_(False)).group_by(a.c.organisation_id))}
    domains: dict[str, set[str]] = defaultdict(set)
    for name, ds in (configured_domains or {}).items():
        domains[name].update(ds)
    mapped: dict[str, str] = {}
    corrections = list(session.scalars(select(IdentityCorrection).where(IdentityCorrection.kind == "domain")
                                       .order_by(IdentityCorrection.id)))
    for c in corrections:
        if not c.subject.startswith(R.ORGANISATION_PREFIX):
            mapped[c.subject] = c.object
    merged = R.organisation_merges(corrections)
    for domain, name in mapped.items():
        for ds in domains.values():
            ds.discard(domain)
        domains[name].add(domain)
    rows = []
    for org in session.scalars(select(Organisation).order_by(Organisation.name)):
        if unverified and org.verified:
            continue
        people, commits = counts.get(org.id, (0, 0))
        rows.append({"id": org.id, "name": org.name, "kind": org.kind, "verified": org.verified,
                     "chongqing_local": org.chongqing_local,
                     "domains": sorted(domains.get(org.name, set()) | (set() if org.verified else {org.name})),
                     "contributors": people, "commits": commits, "merged_into": merged.get(org.name)})
    rows.sort(key=lambda r: (-r["commits"], r["name"]))
    if not unverified:
        people, commits = counts.get(None, (0, 0))
        rows.append({"id": None, "name": "（个人 / individual）", "kind": "individual", "verified": True,
                     "chongqing_local": False, "domains": sorted(d for d, n in mapped.items() if n == R.INDIVIDUAL),
                     "contributors": people, "commits": commits, "merged_into": None})
    return rows
