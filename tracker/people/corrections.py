"""Administrators' corrections: merge, split, bot flag, domain map, dated affiliation, accept/reject a suggestion,
merge two organisations.

Each is one row in `identity_corrections`, keyed by e-mail, platform:login or domain (a person id given on the
command line is turned into the person's representative key), audited, and applied by the next resolution; they
survive re-collection and fresh resolutions because resolution reads them every time.

Merging organisation A into B is stored with the domain maps (kind `domain`), its subject `org:A` (no domain has a
colon): resolution then reads B wherever A would be named — A's domains, its unverified registrable domain, dated
affiliations naming A. (A kind of its own would need a migration: the kinds are a CHECK constraint.)
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import Actor, require_role
from tracker.audit import row_dict
from tracker.models import Account, CommitIdentity, IdentityCorrection, Organisation, Person, PersonSuggestion
from tracker.people import rules as R


class PeopleError(ValueError):
    """A correction or look-up that cannot be done; the message says why and how to fix it."""


def person_nodes(session: Session, person_id: int) -> list[str]:
    """The node keys of a person: its accounts (platform:login) and its addresses, sorted."""
    nodes = {f"l:{p}:{login.lower()}" for p, login in session.execute(
        select(Account.platform, Account.login).where(Account.person_id == person_id, Account.login.is_not(None)))}
    for (email,) in session.execute(select(CommitIdentity.email).where(CommitIdentity.person_id == person_id)):
        email = R.normalise_email(email)
        if not R.is_anonymous(email):
            nodes.add(f"e:{email}")
    return sorted(nodes)


def members(session: Session, actor: Actor, person_id: int) -> list[tuple[str, str]]:
    """A person's addresses and accounts as (EMAIL or PLATFORM:LOGIN, the same with the address masked), sorted:
    what a split can take out. Administrators only."""
    require_role(actor, "admin", action="list a person's addresses for a split")
    out = []
    for node in person_nodes(session, person_id):
        ref = R.ref_of(node)
        out.append((ref, R.mask_email(ref) if node.startswith("e:") else ref))
    return out


def representative(session: Session, person_id: int) -> str:
    """The key a correction about a whole person is stored under: its first account, else its first address."""
    nodes = person_nodes(session, person_id)
    if not nodes:
        raise PeopleError(f"人员 {person_id} 没有可用于更正的账号或邮箱 / person {person_id} has no account or address a "
                          "correction can be keyed by (an anonymous contributor)")
    return nodes[0]


def node_exists(session: Session, node: str) -> bool:
    if node.startswith("l:"):
        platform, login = node[2:].split(":", 1)
        return session.scalar(select(func.count()).select_from(Account).where(
            Account.platform == platform, func.lower(Account.login) == login)) > 0
    return session.scalar(select(func.count()).select_from(CommitIdentity).where(_email_is(node[2:]))) > 0


def person_of(session: Session, ref: str) -> int:
    """A person id from ID, EMAIL or PLATFORM:LOGIN; PeopleError naming the fix otherwise."""
    ref = (ref or "").strip()
    if ref.isdigit():
        if session.get(Person, int(ref)) is None:
            raise PeopleError(f"没有人员 {ref} / no person with id {ref} (see mtx people list)")
        return int(ref)
    node = _node(ref)
    if node.startswith("l:"):
        platform, login = node[2:].split(":", 1)
        pid = session.scalar(select(Account.person_id).where(Account.platform == platform,
                                                             func.lower(Account.login) == login))
    else:
        pid = session.scalar(select(func.min(CommitIdentity.person_id)).where(_email_is(node[2:])))
    if pid is None:
        raise PeopleError(f"没有找到 {ref} / nobody known as {ref!r} (run mtx people resolve after collecting, "
                          "or check the spelling)")
    return pid


def _email_is(email: str):
    return func.lower(func.trim(CommitIdentity.email)) == email


def _node(ref: str) -> str:
    try:
        return R.parse_ref(ref)
    except ValueError as exc:
        raise PeopleError(str(exc)) from None


def node_of(session: Session, ref: str) -> str:
    """A node key from ID (the person's representative), EMAIL or PLATFORM:LOGIN that is known here."""
    if ref.strip().isdigit():
        return representative(session, person_of(session, ref))
    node = _node(ref)
    if not node_exists(session, node):
        raise PeopleError(f"没有找到 {ref} / {ref!r} is not among the collected addresses and accounts")
    return node


def require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise PeopleError("请说明原因 / give a reason (--reason TEXT): it is kept in the audit log")
    return reason.strip()


def add_correction(session: Session, actor: Actor, kind: str, subject: str, object: str | None = None, *,
                   is_bot: bool | None = None, start: dt.date | None = None, end: dt.date | None = None,
                   reason: str | None = None, action: str | None = None) -> IdentityCorrection:
    action = action or kind
    require_role(actor, "admin", action=f"correct people ({action})")
    row = IdentityCorrection(kind=kind, subject=subject, object=object, is_bot=is_bot, start_date=start,
                             end_date=end, reason=(reason or "").strip() or None, actor=actor.name)
    session.add(row)
    session.flush()
    audit.record(session, actor, f"people.{action}", "identity_correction", subject[:200], None, row_dict(row))
    return row


def merge(session: Session, actor: Actor, a: str, b: str, reason: str | None) -> IdentityCorrection:
    node_a, node_b = node_of(session, a), node_of(session, b)
    if node_a == node_b:
        raise PeopleError(f"{a} 与 {b} 是同一个 / {a} and {b} are the same address or account")
    return add_correction(session, actor, "merge", *sorted((node_a, node_b)), reason=require_reason(reason))


def split(session: Session, actor: Actor, person: str, ref: str, reason: str | None) -> IdentityCorrection:
    pid = person_of(session, person)
    node = _node(ref)
    if node not in person_nodes(session, pid):
        raise PeopleError(f"{ref} 不属于人员 {pid} / {ref!r} is not one of person {pid}'s addresses or accounts "
                          f"(see mtx people show {pid})")
    return add_correction(session, actor, "split", node, reason=require_reason(reason))


def set_bot(session: Session, actor: Actor, person: str, is_bot: bool, reason: str | None) -> IdentityCorrection:
    pid = person_of(session, person)
    return add_correction(session, actor, "bot", representative(session, pid), is_bot=is_bot, reason=reason)


def settle_suggestion(session: Session, actor: Actor, suggestion_id: int, accept: bool,
                      reason: str | None) -> IdentityCorrection:
    suggestion = session.get(PersonSuggestion, suggestion_id)
    if suggestion is None:
        raise PeopleError(f"没有建议 {suggestion_id} / no suggestion {suggestion_id} (see mtx people suggest)")
    return add_correction(session, actor, "merge" if accept else "distinct", suggestion.key_a, suggestion.key_b,
                          reason=reason)


def normalise_domain(domain: str) -> str:
    value = R.normalise_email(domain).lstrip("@").rstrip(".")
    if "@" in value:
        value = R.domain_of(value)
    if not value or "." not in value or " " in value or ":" in value:
        raise PeopleError(f"{domain!r} 不是域名 / {domain!r} is not a domain (e.g. h-partners.com)")
    return value


def map_domain(session: Session, actor: Actor, domain: str, organisation: str, known: dict[str, str],
               reason: str | None) -> IdentityCorrection:
    """DOMAIN -> ORGANISATION (a name or alias from organisations.yaml or the database), or 'individual'."""
    domain = normalise_domain(domain)
    if organisation.strip().lower() in (R.INDIVIDUAL, "个人"):
        target = R.INDIVIDUAL
    else:
        target = known.get(organisation.strip()) or session.scalar(
            select(Organisation.name).where(Organisation.name == organisation.strip()))
        if target is None:
            raise PeopleError(f"未知组织 {organisation!r} / unknown organisation {organisation!r}: add it to "
                              "organisations.yaml (or use an existing name, or 'individual')")
    return add_correction(session, actor, "domain", domain, target, reason=reason)


def _organisation_named(session: Session, name: str, known: dict[str, str]) -> str:
    name = name.strip()
    found = known.get(name) or session.scalar(select(Organisation.name).where(Organisation.name == name))
    if found is None:
        raise PeopleError(f"未知组织 {name!r} / unknown organisation {name!r} (see mtx orgs list)")
    return found


def merge_organisations(session: Session, actor: Actor, source: str, target: str, known: dict[str, str],
                        reason: str | None) -> IdentityCorrection:
    """Organisation SOURCE counts as TARGET from now on (names or aliases from organisations.yaml or the database)."""
    require_role(actor, "admin", action="merge organisations")
    reason = require_reason(reason)
    a, b = _organisation_named(session, source, known), _organisation_named(session, target, known)
    merges = R.organisation_merges(session.scalars(select(IdentityCorrection).order_by(IdentityCorrection.id)))
    if merges.get(a, a) == merges.get(b, b):  # the same, merged already, or B merged into A (a cycle)
        raise PeopleError(f"{source} 与 {target} 已是同一组织 / {source!r} and {target!r} are already one organisation")
    return add_correction(session, actor, "domain", R.ORGANISATION_PREFIX + a, b, reason=reason,
                          action="organisation_merge")


def affiliate(session: Session, actor: Actor, person: str, organisation: str, start: dt.date | None,
              end: dt.date | None, known: dict[str, str], reason: str | None) -> IdentityCorrection:
    if start and end and end <= start:
        raise PeopleError("结束日期须晚于开始日期 / the end date must be after the start date (end is exclusive)")
    target = known.get(organisation.strip()) or session.scalar(
        select(Organisation.name).where(Organisation.name == organisation.strip()))
    if target is None:
        raise PeopleError(f"未知组织 {organisation!r} / unknown organisation {organisation!r}: add it to "
                          "organisations.yaml first")
    subject = node_of(session, person)
    return add_correction(session, actor, "affiliation", subject, target, start=start, end=end, reason=reason)


def export_rules(session: Session) -> dict:
    """The database's corrections as an identities.yaml fragment (people:, distinct:) plus what only fits elsewhere."""
    rows = list(session.scalars(select(IdentityCorrection).order_by(IdentityCorrection.id)))
    rules = R.Rules(corrections=tuple(R.Correction(c.id, c.kind, c.subject, c.object, c.is_bot, c.start_date,
                                                   c.end_date) for c in rows if c.kind != "domain"))
    effective_merges: dict[frozenset, int] = {}
    distinct: set[frozenset] = set()
    splits: list[str] = []
    for c in rules.corrections:
        pair = frozenset((c.subject, c.object or ""))
        if c.kind == "merge":
            effective_merges[pair] = c.id
            distinct.discard(pair)
        elif c.kind == "distinct":
            effective_merges.pop(pair, None)
            distinct.add(pair)
        elif c.kind == "split":
            splits.append(c.subject)
            for p in [p for p in effective_merges if c.subject in p]:
                del effective_merges[p]
    groups: dict[str, set[str]] = {}
    for pair in effective_merges:
        merged = set(pair).union(*(groups[n] for n in pair if n in groups))
        for n in merged:
            groups[n] = merged
    entries: dict[frozenset, dict] = {}

    def entry(node: str) -> dict:
        members = frozenset(groups.get(node, {node}))
        if members not in entries:
            nodes = sorted(members)
            entries[members] = {"name": R.ref_of(nodes[0]),
                                "emails": [n[2:] for n in nodes if n.startswith("e:")],
                                "accounts": [dict(zip(("platform", "login"), n[2:].split(":", 1)))
                                             for n in nodes if n.startswith("l:")]}
        return entries[members]

    for pair in sorted(effective_merges, key=sorted):
        entry(sorted(pair)[0])
    bots: dict[str, bool] = {}
    for c in rules.corrections:
        if c.kind == "bot" and c.is_bot is not None:
            bots[c.subject] = c.is_bot
        elif c.kind == "affiliation" and c.object:
            entry(c.subject).setdefault("affiliations", []).append(
                {k: v for k, v in (("organisation", c.object), ("start", c.start), ("end", c.end)) if v})
    for node, flag in bots.items():
        entry(node)["is_bot"] = flag
    out: dict = {"people": [entries[k] for k in sorted(entries, key=lambda k: sorted(k))],
                 "distinct": [sorted(R.ref_of(n) for n in pair) for pair in sorted(distinct, key=sorted)]}
    domains = {c.subject: c.object for c in rows
               if c.kind == "domain" and not c.subject.startswith(R.ORGANISATION_PREFIX)}
    return {"identities": out, "splits": [R.ref_of(n) for n in splits], "domains": domains,
            "organisation_merges": R.organisation_merges(rows)}
