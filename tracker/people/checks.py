"""`mtx config check`: where administrators' corrections in the database and identities.yaml / organisations.yaml
disagree. The database wins (so nothing breaks), but the files should be brought in line (mtx people export-rules)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tracker.config import Config
from tracker.yamlsource import Problem
from tracker.models import IdentityCorrection
from tracker.people import rules as R
from tracker.people.resolve import _refs

FIX = "the database wins; update the file (mtx people export-rules FILE shows the corrections) or revise the correction"


def disagreements(session: Session, config: Config) -> list[Problem]:
    corrections = list(session.scalars(select(IdentityCorrection).order_by(IdentityCorrection.id)))
    merges: set[frozenset] = set()
    distinct: set[frozenset] = set()
    splits: set[str] = set()
    bots: dict[str, bool] = {}
    domains: dict[str, str] = {}
    for c in corrections:
        pair = frozenset((c.subject, c.object or ""))
        if c.kind == "merge":
            merges.add(pair)
            distinct.discard(pair)
        elif c.kind == "distinct":
            merges.discard(pair)
            distinct.add(pair)
        elif c.kind == "split":
            splits.add(c.subject)
            merges = {p for p in merges if c.subject not in p}
        elif c.kind == "bot" and c.is_bot is not None:
            bots[c.subject] = c.is_bot
        elif c.kind == "domain" and c.object and not c.subject.startswith(R.ORGANISATION_PREFIX):
            domains[c.subject] = c.object
    ident = config.identities
    out: list[Problem] = []

    def warn(file: str, key: str, message: str) -> None:
        out.append(Problem(f"{config.directory / file}", key, message, FIX, "warning"))

    for pi, person in enumerate(ident.people):
        members = _refs(list(person.emails) + [f"{a.platform}:{a.login}" for a in person.accounts])
        for m in members:
            if m in splits and len(members) > 1:
                warn("identities.yaml", f"people[{pi}]", f"{R.ref_of(m)} was split off in the database")
            if m in bots and person.is_bot is not None and bots[m] != person.is_bot:
                warn("identities.yaml", f"people[{pi}].is_bot",
                     f"the database says {R.ref_of(m)} is {'a bot' if bots[m] else 'not a bot'}")
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if frozenset((a, b)) in distinct:
                    warn("identities.yaml", f"people[{pi}]",
                         f"the database keeps {R.ref_of(a)} and {R.ref_of(b)} apart")
    for di, group in enumerate(ident.distinct):
        keys = _refs(group)
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                if frozenset((a, b)) in merges:
                    warn("identities.yaml", f"distinct[{di}]", f"the database merges {R.ref_of(a)} and {R.ref_of(b)}")
    listed = {f"e:{R.normalise_email(e)}" for e in ident.bots.emails}
    for node, flag in bots.items():
        login = node.split(":")[-1] if node.startswith("l:") else None
        if not flag and (node in listed or (login and (login in {x.lower() for x in ident.bots.logins}))):
            warn("identities.yaml", "bots", f"the database says {R.ref_of(node)} is not a bot")
    for oi, org in enumerate(config.organisations.organisations):
        for di, domain in enumerate(org.domains):
            mapped = domains.get(domain)
            if mapped is not None and mapped != org.name and mapped not in org.aliases:
                warn("organisations.yaml", f"organisations[{oi}].domains[{di}]",
                     f"the database maps {domain} to {mapped}")
    return out


def database_disagreements(url: str, config: Config) -> list[Problem]:
    """The same, for `mtx config check`: nothing when the database does not exist yet or is not at head."""
    from tracker import db as dbm

    try:
        parsed = make_url(dbm.normalise_url(url))
        if parsed.get_backend_name() == "sqlite" and (not parsed.database or not Path(parsed.database).exists()):
            return []
        if dbm.current_revision(url) != dbm.head_revision():
            return []
        with dbm.session_scope(url) as session:
            return disagreements(session, config)
    except Exception:  # config check must work without a reachable database
        return []
