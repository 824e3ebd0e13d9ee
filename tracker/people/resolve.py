"""Apply the identity rules to the database: read identities and accounts, run the pure rules, write only what changed.

Incremental and deterministic: the rules see natural keys only, so the same data and rules give the same people
whatever order commits arrived in; rows whose person, rule or bot flag did not change are not written. A person keeps
the smallest id among the people it joins, so ids stay stable across re-resolution. When nothing resolution reads has
changed since the last run (tracker/people/state.py), it stops after a few aggregate queries.
"""
from __future__ import annotations

import gc
import time
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from tracker.access import Actor, require_role
from tracker.config import IdentitiesFile, OrganisationsFile
from tracker.models import (Account, Affiliation, CommitIdentity, Commit, IdentityCorrection, Organisation, Person,
                            PersonSuggestion)
from tracker.people import rules as R
from tracker.people import state


@dataclass
class ResolveReport:
    created: list[int] = field(default_factory=list)
    merged_away: list[int] = field(default_factory=list)  # ids that no longer exist (joined into another person)
    changed: list[int] = field(default_factory=list)  # kept ids whose members, name, bot flag or affiliations changed
    people: int = 0
    identities: int = 0
    suggestions: int = 0
    seconds: float = 0.0
    unchanged: bool = False  # nothing resolution reads changed since the last run: answered from the stored digest
    aggregates: str = "none"  # what the activity aggregates needed: none | people | all (tracker.metrics.activity)
    settled: int = 0  # repositories whose first collection was added to the aggregates (activity.settle)

    @property
    def touched(self) -> list[int]:
        """Every person id whose figures must be refreshed (metrics built on people, next issue)."""
        return sorted(set(self.created) | set(self.changed) | set(self.merged_away))

    def line(self) -> str:
        ids = self.touched
        listed = f": {' '.join(map(str, ids[:50]))}{' ...' if len(ids) > 50 else ''}" if ids else ""
        return (f"人员识别 / people resolved: {self.people} people from {self.identities} identities; "
                f"{len(self.created)} new, {len(self.changed)} changed, {len(self.merged_away)} merged away, "
                f"{self.suggestions} suggestions ({self.seconds:.1f} s)"
                f"{'; 无变化 / nothing changed since the last resolution' if self.unchanged else ''}{listed}")

    def as_dict(self) -> dict:
        return {"people": self.people, "identities": self.identities, "created": self.created,
                "changed": self.changed, "merged_away": self.merged_away, "suggestions": self.suggestions,
                "unchanged": self.unchanged, "seconds": round(self.seconds, 3)}


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
    merged = R.organisation_merges(sorted(corrections, key=lambda c: c.id))
    names = {k: merged.get(v, v) for k, v in organisation_names(organisations).items()}

    def fold(name: str) -> str:
        """An organisation's name as counted: aliases to their organisation, merged ones to what they joined."""
        name = names.get(name, name)
        return merged.get(name, name)

    people = []
    for person in identities.people:
        members = _refs(list(person.emails) + [f"{a.platform}:{a.login}" for a in person.accounts])
        people.append(R.PersonRule(person.name, tuple(dict.fromkeys(members)), person.is_bot,
                                   tuple((fold(a.organisation), a.start, a.end)
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
        R.Correction(c.id, c.kind, c.subject, fold(c.object) if c.kind == "affiliation" and c.object else c.object,
                     c.is_bot, c.start_date, c.end_date) for c in ordered if c.kind != "domain")
    domain_map = {c.subject: fold(c.object) for c in ordered
                  if c.kind == "domain" and c.object and not c.subject.startswith(R.ORGANISATION_PREFIX)}
    configured = {d: fold(org.name) for org in organisations.organisations for d in org.domains}
    domains = R.DomainRules(domain_map, configured, frozenset(d.lower() for d in organisations.free_mail_domains),
                            anonymous, merged)
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
                   organisations: OrganisationsFile | None = None, now=None, full: bool = False) -> ResolveReport:
    """Resolve every identity and account into people; write the differences. Administrators (and the job) only.

    When nothing resolution reads has changed since the last run (the digest in `people_resolution_state`), this is
    a handful of aggregate queries; `full=True` recomputes regardless.
    """
    require_role(actor, "admin", action="resolve people")
    started = time.perf_counter()
    identities = identities or IdentitiesFile()
    organisations = organisations or OrganisationsFile()
    report = ResolveReport()
    session.flush()
    conn = session.connection()
    config = state.config_digest(identities, organisations)
    if not full:
        probe = state.Probe(conn, config)
        if probe.digest == state.stored_digest(conn):
            report.people, report.identities, report.suggestions = probe.people, probe.identities, probe.suggestions
            report.unchanged = True
            from tracker.metrics import activity

            report.settled = activity.settle(session)  # repositories first collected since: into the aggregates
            report.seconds = time.perf_counter() - started
            return report
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of small, acyclic objects: collection passes would only rescan them
    try:
        _resolve(session, conn, identities, organisations, now or _now(), report)
    finally:
        if collecting:
            gc.enable()
    session.flush()
    from tracker.metrics import activity  # the aggregates count people: refresh the ones that changed, in this transaction

    report.aggregates = activity.refresh_people(session, report.touched)
    report.settled = activity.settle(session)  # first collections' commits, counted once, with their people resolved
    state.store_digest(conn, state.Probe(conn, config).digest, now)
    report.seconds = time.perf_counter() - started
    return report


def _resolve(session: Session, conn, identities: IdentitiesFile, organisations: OrganisationsFile, now,
             report: ResolveReport) -> None:
    corrections = conn.execute(select(IdentityCorrection.id, IdentityCorrection.kind, IdentityCorrection.subject,
                                      IdentityCorrection.object, IdentityCorrection.is_bot,
                                      IdentityCorrection.start_date, IdentityCorrection.end_date)
                               .order_by(IdentityCorrection.id)).all()
    rules, domains = build_rules(identities, organisations, corrections)
    org_ids = sync_organisations(session, organisations)

    # plain driver rows: tens of thousands of them, no type processing needed (booleans may come back as 0/1)
    ident_rows = _driver_rows(conn, "SELECT id, email, name, account_id, person_id, organisation_id, rule, rule_via, "
                                    "is_bot FROM commit_identities")
    account_rows = _driver_rows(conn, "SELECT id, platform, login, name, email, platform_bot, person_id, is_bot, rule, "
                                      "rule_via FROM accounts")
    outcome = R.resolve(map(R.IdentityIn._make, (r[:4] for r in ident_rows)),
                        map(R.AccountIn._make, (r[:6] for r in account_rows)), rules)

    # person ids: each component keeps the smallest id among the people it joins
    old_ident = {r[0]: r[4] for r in ident_rows}
    old_account = {r[0]: r[6] for r in account_rows}
    claims = []
    for comp in outcome.components:
        counts: dict[int, int] = defaultdict(int)
        for i in comp.identities:
            p = old_ident[i]
            if p is not None:
                counts[p] += 1
        for a in comp.accounts:
            p = old_account[a]
            if p is not None:
                counts[p] += 1
        candidates = sorted(counts)
        claims.append(((candidates[0], -counts[candidates[0]], comp.key) if candidates else (float("inf"), 0, comp.key),
                       comp, candidates))
    claims.sort(key=lambda c: c[0])
    people = {p[0]: p for p in _driver_rows(conn, "SELECT id, display_name, is_bot, bot_reason, is_anonymous "
                                                   "FROM people")}
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
                 "is_anonymous": c.is_anonymous, "created_at": now} for c in new_components]
        ids = _new_ids(conn, Person.__tablename__, len(rows))
        for row, pid in zip(rows, ids):
            row["id"] = pid
        for chunk in _chunks(rows, 5000):
            conn.execute(insert(Person.__table__), chunk)
        for comp, pid in zip(new_components, ids):
            assigned[comp.key] = pid
            report.created.append(pid)

    # people rows: names and flags; members: identities and accounts
    person_updates = []
    changed: set[int] = set()
    ident_person: dict[int, tuple[int, bool]] = {}
    account_person: dict[int, tuple[int, bool]] = {}
    for comp in outcome.components:
        pid = assigned[comp.key]
        old = people.get(pid)
        new = (comp.name, comp.is_bot, comp.bot_reason, comp.is_anonymous)
        if old is not None and tuple(old[1:]) != new:
            person_updates.append((*new, pid))
            changed.add(pid)
        member = (pid, comp.is_bot)
        for iid in comp.identities:
            ident_person[iid] = member
        for aid in comp.accounts:
            account_person[aid] = member
    _update_by_id(conn, Person, ("display_name", "is_bot", "bot_reason", "is_anonymous"), person_updates)

    org_of_email: dict[str | None, int | None] = {}  # raw address -> organisation id: addresses repeat a lot
    by_domain: dict[str, R.OrgAnswer] = {}
    ident_updates, bot_changes = [], {True: [], False: []}
    no_rule = (None, None)
    for r in ident_rows:
        iid, raw = r[0], r[1]
        pid, is_bot = ident_person.get(iid, (None, False))
        try:
            org_id = org_of_email[raw]
        except KeyError:
            email = R.normalise_email(raw)
            domain = R.domain_of(email)
            if R.is_anonymous(email, domains.anonymous_patterns) or R.is_noreply_domain(domain):
                org_id = None
            else:
                answer = by_domain.get(domain)
                if answer is None:
                    answer = by_domain[domain] = domains.for_domain(domain)
                org_id = _organisation_id(session, org_ids, answer)
            org_of_email[raw] = org_id
        rule, via = outcome.identity_rule.get(iid, no_rule)
        if (pid, org_id, rule, via, is_bot) != (r[4], r[5], r[6], r[7], r[8]):
            ident_updates.append((pid, org_id, rule, via, is_bot, iid))
            if r[4] != pid or r[5] != org_id:  # a new person, or a new organisation (a domain mapped)
                changed.update(p for p in (r[4], pid) if p is not None)
            if r[8] != is_bot:
                bot_changes[is_bot].append(iid)
    _update_by_id(conn, CommitIdentity, ("person_id", "organisation_id", "rule", "rule_via", "is_bot"), ident_updates)
    for flag, ids in bot_changes.items():
        for chunk in _chunks(ids):
            session.execute(update(Commit).where(Commit.author_identity_id.in_(chunk), Commit.is_bot != flag)
                            .values(is_bot=flag))

    account_updates = []
    for r in account_rows:
        aid = r[0]
        pid, is_bot = account_person.get(aid, (None, r[5]))
        rule, via = outcome.account_rule.get(aid, no_rule)
        if (pid, is_bot, rule, via) != (r[6], r[7], r[8], r[9]):
            account_updates.append((pid, is_bot, rule, via, aid))
            if r[6] != pid:
                changed.update(p for p in (r[6], pid) if p is not None)
    _update_by_id(conn, Account, ("person_id", "is_bot", "rule", "rule_via"), account_updates)

    gone = sorted(set(people) - set(assigned.values()))
    for chunk in _chunks(gone):
        session.execute(delete(Person).where(Person.id.in_(chunk)))
    report.merged_away = gone

    changed |= _write_affiliations(session, outcome, assigned, org_ids)
    report.suggestions = _write_suggestions(session, outcome.suggestions, now)
    _drop_orphan_unverified(session)
    report.changed = sorted(changed - set(report.created) - set(gone))
    report.people = len(outcome.components)
    report.identities = len(ident_rows)


def _update_by_id(conn, model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Set `columns` on rows given as (*values, id). PostgreSQL: one UPDATE ... FROM unnest(arrays) per 20,000 rows;
    SQLite: one executemany straight to the driver (no per-row statement compilation)."""
    if not rows:
        return
    table = model.__table__
    if conn.dialect.name == "postgresql":
        types = [_pg_type(table.c[c]) for c in columns] + ["integer"]
        names = [*columns, "id"]
        sql = (f"UPDATE {table.name} AS t SET {', '.join(f'{c} = v.{c}' for c in columns)} FROM unnest("
               + ", ".join(f"%(c{i})s::{t}[]" for i, t in enumerate(types))
               + f") AS v({', '.join(names)}) WHERE t.id = v.id")
        for chunk in _chunks(rows, 20000):
            conn.exec_driver_sql(sql, {f"c{i}": list(col) for i, col in enumerate(zip(*chunk))})
    else:
        sql = f"UPDATE {table.name} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"
        conn.exec_driver_sql(sql, rows)


def _driver_rows(conn, sql: str) -> list[tuple]:
    """All rows of a query as the driver's own tuples, inside the session's transaction."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _new_ids(conn, table: str, n: int) -> list[int]:
    """n fresh ids for `table`, in increasing order (one query, then one executemany INSERT: no RETURNING per row)."""
    if conn.dialect.name == "postgresql":
        return sorted(conn.exec_driver_sql(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                                           f"FROM generate_series(1, {int(n)})").scalars())
    start = conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar() + 1  # what SQLite would pick
    return list(range(start, start + n))


def _pg_type(column) -> str:
    from sqlalchemy import Boolean, Integer

    if isinstance(column.type, Boolean):
        return "boolean"
    if isinstance(column.type, Integer):
        return "integer"
    return "text"


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
                for r in session.connection().execute(select(Affiliation.id, Affiliation.person_id,
                                                             Affiliation.organisation_id, Affiliation.start_date,
                                                             Affiliation.end_date, Affiliation.source))}
    stale = [i for k, i in existing.items() if k not in wanted]
    for chunk in _chunks(stale):
        session.execute(delete(Affiliation).where(Affiliation.id.in_(chunk)))
    new = [dict(zip(("person_id", "organisation_id", "start_date", "end_date", "source"), k))
           for k in sorted(wanted - set(existing), key=lambda k: (k[0], k[1], str(k[2])))]
    for chunk in _chunks(new, 1000):
        session.connection().execute(insert(Affiliation.__table__), chunk)
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
