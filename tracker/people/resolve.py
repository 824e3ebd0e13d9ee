"""Apply the identity rules to the database: read identities and accounts, run the pure rules, write only what changed.

Incremental and deterministic: the rules see natural keys only, so the same data and rules give the same people
whatever order commits arrived in; rows whose person, rule or bot flag did not change are not written. A person keeps
the smallest id among the people it joins, so ids stay stable across re-resolution.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from tracker.access import Actor, require_role
from tracker.config import IdentitiesFile, OrganisationsFile
from tracker.models import (Account, Affiliation, CommitIdentity, Commit, IdentityCorrection, Organisation, Person,
                            PersonSuggestion)
from tracker.people import rules as R


@dataclass
class ResolveReport:
    created: list[int] = field(default_factory=list)
    merged_away: list[int] = field(default_factory=list)  # ids that no longer exist (joined into another person)
    changed: list[int] = field(default_factory=list)  # kept ids whose members, name, bot flag or affiliations changed
    people: int = 0
    identities: int = 0
    suggestions: int = 0
    seconds: float = 0.0

    @property
    def touched(self) -> list[int]:
        """Every person id whose figures must be refreshed (metrics built on people, next issue)."""
        return sorted(set(self.created) | set(self.changed) | set(self.merged_away))

    def line(self) -> str:
        ids = self.touched
        listed = f": {' '.join(map(str, ids[:50]))}{' ...' if len(ids) > 50 else ''}" if ids else ""
        return (f"人员识别 / people resolved: {self.people} people from {self.identities} identities; "
                f"{len(self.created)} new, {len(self.changed)} changed, {len(self.merged_away)} merged away, "
                f"{self.suggestions} suggestions ({self.seconds:.1f} s){listed}")

    def as_dict(self) -> dict:
        return {"people": self.people, "identities": self.identities, "created": self.created,
                "changed": self.changed, "merged_away": self.merged_away, "suggestions": self.suggestions,
                "seconds": round(self.seconds, 3)}


# --- configuration and corrections -> rules ---------------------------------------------------------------------------


def organisation_names(organisations: OrganisationsFile) -> dict[str, str]:
    """Every name and alias -> the organisation's name (an alias counts once, as its organisation)."""
    out: dict[str, str] = {}
    for org in organisations.organisations:
        out[org.name] = org.name
        for alias in org.aliases:
            out.setdefault(alias, org.name)
    return out


def _refs(refs) -> list[str]:
    keys = []
    for ref in refs:
        try:
            keys.append(R.parse_ref(ref))
        except ValueError:
            continue  # config check reports it
    return keys


def build_rules(identities: IdentitiesFile, organisations: OrganisationsFile,
                corrections: list[IdentityCorrection]) -> tuple[R.Rules, R.DomainRules]:
    names = organisation_names(organisations)
    people = []
    for person in identities.people:
        members = _refs(list(person.emails) + [f"{a.platform}:{a.login}" for a in person.accounts])
        people.append(R.PersonRule(person.name, tuple(dict.fromkeys(members)), person.is_bot,
                                   tuple((names.get(a.organisation, a.organisation), a.start, a.end)
                                         for a in person.affiliations)))
    distinct = []
    for group in identities.distinct:
        keys = sorted(set(_refs(group)))
        distinct += [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]]
    bots = R.BotRules(tuple(identities.bots.patterns), frozenset(R.normalise_email(e) for e in identities.bots.emails),
                      frozenset(login.strip().lower() for login in identities.bots.logins))
    anonymous = tuple(R.normalise_email(p) for p in identities.anonymous_emails)
    ordered = sorted(corrections, key=lambda c: c.id)
    rule_corrections = tuple(
        R.Correction(c.id, c.kind, c.subject, names.get(c.object, c.object) if c.kind == "affiliation" else c.object,
                     c.is_bot, c.start_date, c.end_date) for c in ordered if c.kind != "domain")
    domain_map = {c.subject: names.get(c.object, c.object) for c in ordered if c.kind == "domain" and c.object}
    configured = {d: org.name for org in organisations.organisations for d in org.domains}
    domains = R.DomainRules(domain_map, configured, frozenset(d.lower() for d in organisations.free_mail_domains),
                            anonymous)
    return R.Rules(bots, tuple(people), tuple(distinct), anonymous, rule_corrections), domains


# --- the database pass ------------------------------------------------------------------------------------------------


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def sync_organisations(session: Session, organisations: OrganisationsFile) -> dict[str, int]:
    """organisations.yaml -> rows (verified), added or updated, never deleted; returns name -> id for all rows."""
    existing = {o.name: o for o in session.scalars(select(Organisation))}
    for org in organisations.organisations:
        row = existing.get(org.name)
        values = {"kind": org.kind, "chongqing_local": org.chongqing_local, "verified": True}
        if row is None:
            row = Organisation(name=org.name, **values)
            session.add(row)
            existing[org.name] = row
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
    session.flush()
    return {name: row.id for name, row in existing.items()}


def resolve_people(session: Session, actor: Actor, identities: IdentitiesFile | None = None,
                   organisations: OrganisationsFile | None = None, now=None) -> ResolveReport:
    """Resolve every identity and account into people; write the differences. Administrators (and the job) only."""
    require_role(actor, "admin", action="resolve people")
    started = time.perf_counter()
    identities = identities or IdentitiesFile()
    organisations = organisations or OrganisationsFile()
    report = ResolveReport()
    corrections = list(session.scalars(select(IdentityCorrection).order_by(IdentityCorrection.id)))
    rules, domains = build_rules(identities, organisations, corrections)
    org_ids = sync_organisations(session, organisations)

    ident_rows = session.execute(select(CommitIdentity.id, CommitIdentity.email, CommitIdentity.name,
                                        CommitIdentity.account_id, CommitIdentity.person_id,
                                        CommitIdentity.organisation_id, CommitIdentity.rule, CommitIdentity.rule_via,
                                        CommitIdentity.is_bot)).all()
    account_rows = session.execute(select(Account.id, Account.platform, Account.login, Account.name, Account.email,
                                          Account.platform_bot, Account.person_id, Account.is_bot, Account.rule,
                                          Account.rule_via)).all()
    outcome = R.resolve((R.IdentityIn(r.id, r.email, r.name, r.account_id) for r in ident_rows),
                        (R.AccountIn(r.id, r.platform, r.login, r.name, r.email, r.platform_bot)
                         for r in account_rows), rules)

    # person ids: each component keeps the smallest id among the people it joins
    old_ident = {r.id: r.person_id for r in ident_rows}
    old_account = {r.id: r.person_id for r in account_rows}
    claims = []
    for comp in outcome.components:
        olds = [old_ident[i] for i in comp.identities] + [old_account[a] for a in comp.accounts]
        counts: dict[int, int] = defaultdict(int)
        for p in olds:
            if p is not None:
                counts[p] += 1
        candidates = sorted(counts)
        claims.append(((candidates[0], -counts[candidates[0]], comp.key) if candidates else (float("inf"), 0, comp.key),
                       comp, candidates))
    claims.sort(key=lambda c: c[0])
    people = {p.id: p for p in session.execute(select(Person.id, Person.display_name, Person.is_bot,
                                                      Person.bot_reason, Person.is_anonymous))}
    taken: set[int] = set()
    assigned: dict[str, int] = {}
    new_components = []
    for _, comp, candidates in claims:
        pid = next((p for p in candidates if p not in taken and p in people), None)
        if pid is None:
            new_components.append(comp)
        else:
            taken.add(pid)
            assigned[comp.key] = pid
    if new_components:
        rows = [{"display_name": c.name, "is_bot": c.is_bot, "bot_reason": c.bot_reason,
                 "is_anonymous": c.is_anonymous, "created_at": now or _now()} for c in new_components]
        ids = []
        for chunk in _chunks(rows, 1000):
            ids += session.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), chunk).all()
        for comp, pid in zip(new_components, ids):
            assigned[comp.key] = pid
            report.created.append(pid)

    # people rows: names and flags; members: identities and accounts
    person_updates = []
    changed: set[int] = set()
    for comp in outcome.components:
        pid = assigned[comp.key]
        old = people.get(pid)
        if old is not None and (old.display_name, old.is_bot, old.bot_reason, old.is_anonymous) != \
                (comp.name, comp.is_bot, comp.bot_reason, comp.is_anonymous):
            person_updates.append({"id": pid, "display_name": comp.name, "is_bot": comp.is_bot,
                                   "bot_reason": comp.bot_reason, "is_anonymous": comp.is_anonymous})
            changed.add(pid)
    _update_by_id(session, Person, person_updates)

    by_domain: dict[str, R.OrgAnswer] = {}
    ident_person: dict[int, tuple[int, bool]] = {}
    for comp in outcome.components:
        pid = assigned[comp.key]
        for iid in comp.identities:
            ident_person[iid] = (pid, comp.is_bot)
    account_person: dict[int, tuple[int, bool]] = {}
    for comp in outcome.components:
        for aid in comp.accounts:
            account_person[aid] = (assigned[comp.key], comp.is_bot)

    ident_updates, bot_changes = [], {True: [], False: []}
    for r in ident_rows:
        pid, is_bot = ident_person.get(r.id, (None, False))
        email = R.normalise_email(r.email)
        domain = R.domain_of(email)
        if R.is_anonymous(email, domains.anonymous_patterns) or R.is_noreply_domain(domain):
            org_id = None
        else:
            answer = by_domain.get(domain)
            if answer is None:
                answer = by_domain[domain] = domains.for_domain(domain)
            org_id = _organisation_id(session, org_ids, answer)
        rule, via = outcome.identity_rule.get(r.id, (None, None))
        new = (pid, org_id, rule, via, is_bot)
        if new != (r.person_id, r.organisation_id, r.rule, r.rule_via, r.is_bot):
            ident_updates.append({"id": r.id, "person_id": pid, "organisation_id": org_id, "rule": rule,
                                  "rule_via": via, "is_bot": is_bot})
            if r.person_id != pid:
                changed.update(p for p in (r.person_id, pid) if p is not None)
            if r.is_bot != is_bot:
                bot_changes[is_bot].append(r.id)
    _update_by_id(session, CommitIdentity, ident_updates)
    for flag, ids in bot_changes.items():
        for chunk in _chunks(ids):
            session.execute(update(Commit).where(Commit.author_identity_id.in_(chunk), Commit.is_bot != flag)
                            .values(is_bot=flag))

    account_updates = []
    for r in account_rows:
        pid, is_bot = account_person.get(r.id, (None, r.platform_bot))
        rule, via = outcome.account_rule.get(r.id, (None, None))
        if (pid, is_bot, rule, via) != (r.person_id, r.is_bot, r.rule, r.rule_via):
            account_updates.append({"id": r.id, "person_id": pid, "is_bot": is_bot, "rule": rule, "rule_via": via})
            if r.person_id != pid:
                changed.update(p for p in (r.person_id, pid) if p is not None)
    _update_by_id(session, Account, account_updates)

    gone = sorted(set(people) - set(assigned.values()))
    for chunk in _chunks(gone):
        session.execute(delete(Person).where(Person.id.in_(chunk)))
    report.merged_away = gone

    changed |= _write_affiliations(session, outcome, assigned, org_ids)
    report.suggestions = _write_suggestions(session, outcome.suggestions, now or _now())
    _drop_orphan_unverified(session)
    report.changed = sorted(changed - set(report.created) - set(gone))
    report.people = len(outcome.components)
    report.identities = len(ident_rows)
    session.flush()
    report.seconds = time.perf_counter() - started
    return report


def _update_by_id(session: Session, model, rows: list[dict]) -> None:
    """One executemany UPDATE ... WHERE id = ? for rows that all set the same columns (Core: no ORM bookkeeping)."""
    if not rows:
        return
    table = model.__table__
    columns = [k for k in rows[0] if k != "id"]
    stmt = table.update().where(table.c.id == bindparam("row_id")).values({c: bindparam(f"v_{c}") for c in columns})
    for chunk in _chunks(rows, 5000):
        session.connection().execute(stmt, [{"row_id": r["id"], **{f"v_{c}": r[c] for c in columns}} for r in chunk])


def _now():
    from tracker.models import utcnow

    return utcnow()


def _organisation_id(session: Session, org_ids: dict[str, int], answer: R.OrgAnswer) -> int | None:
    if answer.name is None:
        return None
    oid = org_ids.get(answer.name)
    if oid is None:
        if answer.verified:
            return None  # a correction naming an organisation that is not there: config check reports it
        row = Organisation(name=answer.name[:200], kind="other", verified=False)
        session.add(row)
        session.flush()
        oid = org_ids[answer.name] = row.id
    return oid


def _write_affiliations(session: Session, outcome: R.Outcome, assigned: dict[str, int],
                        org_ids: dict[str, int]) -> set[int]:
    wanted: set[tuple] = set()
    for comp in outcome.components:
        for org, start, end, source in comp.affiliations:
            if org in org_ids:
                wanted.add((assigned[comp.key], org_ids[org], start, end, source))
    existing = {(r.person_id, r.organisation_id, r.start_date, r.end_date, r.source): r.id
                for r in session.execute(select(Affiliation.id, Affiliation.person_id, Affiliation.organisation_id,
                                                Affiliation.start_date, Affiliation.end_date, Affiliation.source))}
    stale = [i for k, i in existing.items() if k not in wanted]
    for chunk in _chunks(stale):
        session.execute(delete(Affiliation).where(Affiliation.id.in_(chunk)))
    new = [dict(zip(("person_id", "organisation_id", "start_date", "end_date", "source"), k))
           for k in sorted(wanted - set(existing), key=lambda k: (k[0], k[1], str(k[2])))]
    for chunk in _chunks(new, 1000):
        session.execute(insert(Affiliation), chunk)
    return {k[0] for k in existing if k not in wanted} | {k["person_id"] for k in new}


def _write_suggestions(session: Session, suggestions: list[R.Suggestion], now) -> int:
    wanted = {(s.a, s.b): s for s in suggestions}
    existing = {(r.key_a, r.key_b): r.id for r in session.execute(select(PersonSuggestion.id, PersonSuggestion.key_a,
                                                                         PersonSuggestion.key_b))}
    stale = [i for k, i in existing.items() if k not in wanted]
    for chunk in _chunks(stale):
        session.execute(delete(PersonSuggestion).where(PersonSuggestion.id.in_(chunk)))
    new = [{"key_a": s.a, "key_b": s.b, "rule": s.rule, "detail": s.detail[:400], "created_at": now}
           for k, s in sorted(wanted.items()) if k not in existing]
    for chunk in _chunks(new, 1000):
        session.execute(insert(PersonSuggestion), chunk)
    return len(wanted)


def _drop_orphan_unverified(session: Session) -> None:
    """An unverified organisation nobody is attributed to any more (its domain was mapped) is removed."""
    used = select(CommitIdentity.organisation_id).where(CommitIdentity.organisation_id.is_not(None))
    in_affiliation = select(Affiliation.organisation_id)
    session.execute(delete(Organisation).where(Organisation.verified.is_(False), Organisation.id.not_in(used),
                                               Organisation.id.not_in(in_affiliation)))
