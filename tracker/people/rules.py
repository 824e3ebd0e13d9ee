"""Identity resolution rules: pure functions over plain values, no database, so each rule is table-testable.

The graph has three kinds of node, named by natural keys (never by database ids, so the result does not depend on the
order in which commits arrived):

- ``e:<address>``            a normalised e-mail address (rule 4: the same address is the same person everywhere);
- ``l:<platform>:<login>``   a platform account, from a linked commit (rule 2) or a noreply address (rule 3);
- ``x:<address>\\n<name>``    an address that identifies nobody: one anonymous contributor per address and name.

Edges are taken in a fixed order (corrections, identities.yaml, then the automatic rules sorted by their keys) through
a union-find that refuses an automatic edge which would put two different accounts of one platform, or a pair declared
distinct, into one person; a refused same-platform edge becomes a suggestion for an administrator.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, NamedTuple

from collector import registry

INDIVIDUAL = "individual"  # a domain mapped to no organisation (free mail, noreply, anonymous)
ORGANISATION_PREFIX = "org:"  # a domain correction on org:NAME merges organisation NAME into its object

# rule codes, in the order the issue gives them; stored with each join so `mtx people show` can say why
RULE_MERGE = "correction:merge"
RULE_SPLIT = "correction:split"
RULE_FILE = "identities.yaml"
RULE_LINKED = "linked-account"
RULE_NOREPLY = "noreply"
RULE_EMAIL = "same-email"
RULE_ANONYMOUS = "anonymous"
RULE_OWN = "own"

ANONYMOUS_DOMAINS = frozenset({"example.com", "example.org", "example.net", "localhost", "localhost.localdomain"})


@dataclass(frozen=True)
class _PlatformForms:
    """What the platform declarations (collector/platforms/) say about addresses and account references."""

    noreply: tuple[tuple[str, re.Pattern[str]], ...]
    noreply_domains: tuple[str, ...]
    anonymous: frozenset[str]
    account_ref: re.Pattern[str]
    names: dict[str, str]  # name or alias (lower case) -> platform name


@lru_cache(maxsize=4)
def _forms_of(generation: int) -> _PlatformForms:
    platforms = registry.all_platforms()
    with_logins = [p for p in platforms if p.logins]
    names = {p.name.lower(): p.name for p in with_logins} | {a.lower(): p.name for p in with_logins for a in p.aliases}
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return _PlatformForms(
        noreply=tuple((p.name, re.compile(form)) for p in platforms for form in p.noreply_forms),
        noreply_domains=tuple(d for p in platforms for d in p.noreply_domains),
        anonymous=frozenset(a for p in platforms for a in p.anonymous_addresses),
        account_ref=re.compile(rf"^({alternatives}):([^@\s:]+)$", re.IGNORECASE),
        names=names)


def _forms() -> _PlatformForms:
    return _forms_of(registry.generation())


# --- plain values -----------------------------------------------------------------------------------------------------


def normalise_email(email: str | None) -> str:
    """Trimmed, NFKC, lower-case; angle brackets dropped. '' for nothing."""
    if not email:
        return ""
    return unicodedata.normalize("NFKC", email).strip().strip("<>").strip().lower()


def normalise_name(name: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", name or "").split())


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[1].rstrip(".") if "@" in email else ""


def parse_noreply(email: str) -> tuple[str, str] | None:
    """(platform, lower-case login) for a platform-private noreply address, else None. Never matches on domain alone."""
    if "noreply" not in email:
        return None
    for platform, pattern in _forms().noreply:
        m = pattern.match(email)
        if m:
            return platform, m.group("login").lower()
    return None


def is_noreply_domain(domain: str) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in _forms().noreply_domains)


def is_anonymous(email: str, extra_patterns: Iterable[str] = ()) -> bool:
    """An address that identifies nobody: empty, no '@', platform web-commit addresses, local hosts, example domains,
    or one of identities.yaml's `anonymous_emails` (exact addresses or * ? patterns)."""
    if not email or "@" not in email:
        return True
    local, domain = email.rsplit("@", 1)
    if not local or not domain or email in _forms().anonymous or domain in ANONYMOUS_DOMAINS:
        return True
    if domain.endswith(".local") or domain.endswith(".localdomain") or domain.endswith(".localhost"):
        return True
    return any(fnmatch.fnmatchcase(email, p.lower()) for p in extra_patterns)


def mask_email(email: str | None) -> str:
    """zh***@huawei.com: enough to tell addresses apart in a listing, not enough to write to someone."""
    if not email:
        return ""
    if "@" not in email:
        return email[:2] + "***"
    local, domain = email.rsplit("@", 1)
    return f"{local[:2]}***@{domain}"


def parse_ref(text: str) -> str:
    """A user's EMAIL or PLATFORM:LOGIN as a node key; ValueError with the fix otherwise."""
    text = (text or "").strip()
    forms = _forms()
    m = forms.account_ref.match(text)
    if m:
        platform = forms.names[m.group(1).lower()]  # an alias (atomgit) is its platform (gitcode)
        return f"l:{platform}:{m.group(2).lower()}"
    email = normalise_email(text)
    if "@" in email and not is_anonymous(email):
        return f"e:{email}"
    if "@" in email:
        raise ValueError(f"{text!r} identifies nobody (an anonymous address): it cannot be merged, split or flagged")
    raise ValueError(f"{text!r} is neither an e-mail address nor PLATFORM:LOGIN "
                     f"(e.g. zhangsan@huawei.com or gitcode:zhangsan)")


def ref_of(key: str) -> str:
    """A node key shown to people: the e-mail, platform:login, or the anonymous address."""
    if key.startswith("e:"):
        return key[2:]
    if key.startswith("l:"):
        return key[2:]
    return key[2:].split("\n", 1)[0]


# --- bots -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotRules:
    patterns: tuple[str, ...] = ()
    emails: frozenset[str] = frozenset()
    logins: frozenset[str] = frozenset()  # "login" (any platform) or "platform:login", lower-case
    # name -> the first matching pattern (or None): thousands of people share a few hundred names and logins
    _hits: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @staticmethod
    @lru_cache(maxsize=512)
    def _compiled(pattern: str) -> re.Pattern[str]:
        return re.compile(pattern, re.IGNORECASE)

    @staticmethod
    @lru_cache(maxsize=64)
    def _any(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
        """All patterns as one alternation (None when they do not combine, e.g. numbered back-references)."""
        if any(re.search(r"\\\d|\(\?P=|\(\?P<|\(\?[aiLmsux]+\)", p) for p in patterns):
            return None
        try:
            return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        except re.error:
            return None

    def match_login(self, platform: str, login: str) -> str | None:
        if login in self.logins or f"{platform}:{login}" in self.logins:
            return f"bots.logins {login}"
        return self.match_name(login, "login")

    def match_name(self, name: str, what: str = "name") -> str | None:
        if not name or not self.patterns:
            return None
        try:
            hit = self._hits[name]
        except KeyError:
            hit = None
            combined = self._any(self.patterns)
            if combined is None or combined.search(name):  # one search rules most names out
                hit = next((p for p in self.patterns if self._compiled(p).search(name)), None)
            self._hits[name] = hit
        return None if hit is None else f"bots.patterns {hit!r} on {what} {name!r}"

    def match_email(self, email: str) -> str | None:
        return f"bots.emails {email}" if email in self.emails else None


# --- organisations ----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList  # ships the list; never downloads

    return PublicSuffixList(accept_encoded_idn=False)  # 10x faster to load; e-mail domains are not punycode


def registrable_domain(domain: str) -> str | None:
    """mail.ustc.edu.cn -> ustc.edu.cn, from the Public Suffix List the package ships."""
    if not domain or "." not in domain:
        return None
    return _psl().privatesuffix(domain)


@dataclass(frozen=True)
class OrgAnswer:
    name: str | None  # None: individual (no organisation)
    verified: bool
    reason: str


@dataclass
class DomainRules:
    """Domain -> organisation: administrator maps first, then organisations.yaml, free mail, then the registrable
    domain as an unverified organisation. A subdomain matches its parent (mail.cqu.edu.cn -> cqu.edu.cn)."""

    corrections: dict[str, str] = field(default_factory=dict)  # domain -> organisation name or INDIVIDUAL
    configured: dict[str, str] = field(default_factory=dict)
    free_mail: frozenset[str] = frozenset()
    anonymous_patterns: tuple[str, ...] = ()
    merged: dict[str, str] = field(default_factory=dict)  # organisation -> the one it was merged into (final)

    def for_email(self, email: str) -> OrgAnswer:
        if is_anonymous(email, self.anonymous_patterns):
            return OrgAnswer(None, True, "anonymous address")
        domain = domain_of(email)
        if is_noreply_domain(domain):
            return OrgAnswer(None, True, "platform noreply address")
        return self.for_domain(domain)

    def for_domain(self, domain: str) -> OrgAnswer:
        top = registrable_domain(domain)
        for candidate in _parents(domain, top):
            for source, table in (("correction", self.corrections), ("organisations.yaml", self.configured)):
                name = table.get(candidate)
                if name is not None:
                    return OrgAnswer(None if name == INDIVIDUAL else name, True, f"{source}: {candidate}")
            if candidate in self.free_mail:
                return OrgAnswer(None, True, f"free mail: {candidate}")
        if top is None or top in ANONYMOUS_DOMAINS:
            return OrgAnswer(None, True, f"no registrable domain outside the reserved example domains: {domain}")
        if top in self.merged:
            return OrgAnswer(self.merged[top], False, f"unmapped domain: registrable domain {top}, merged into "
                                                      f"{self.merged[top]}")
        return OrgAnswer(top, False, f"unmapped domain: registrable domain {top}")


def organisation_merges(rows) -> dict[str, str]:
    """Merged organisation -> the organisation it now counts as (chains followed, a cycle stops where it closes), from
    correction rows in id order (later wins)."""
    direct: dict[str, str] = {}
    for c in rows:
        if c.kind == "domain" and c.subject.startswith(ORGANISATION_PREFIX) and c.object:
            direct[c.subject[len(ORGANISATION_PREFIX):]] = c.object
    final: dict[str, str] = {}
    for name in direct:
        seen, target = {name}, direct[name]
        while target in direct and direct[target] not in seen:
            seen.add(target)
            target = direct[target]
        if target != name:
            final[name] = target
    return final


def _parents(domain: str, top: str | None) -> list[str]:
    """The domain and its parents down to the registrable domain (or two labels when the suffix is unknown)."""
    labels = domain.split(".")
    floor = len(top.split(".")) if top else 2
    return [".".join(labels[i:]) for i in range(0, max(1, len(labels) - floor + 1))]


# --- inputs and outputs -----------------------------------------------------------------------------------------------


class IdentityIn(NamedTuple):  # a tuple: resolution builds hundreds of thousands of them
    id: int
    email: str | None
    name: str | None
    account_id: int | None


class AccountIn(NamedTuple):
    id: int
    platform: str
    login: str | None  # None: an e-mail-keyed account (a commit no login was linked to)
    name: str | None
    email: str | None
    platform_bot: bool = False


@dataclass(frozen=True)
class PersonRule:
    """identities.yaml `people:` entry, as node keys."""

    name: str | None
    members: tuple[str, ...]
    is_bot: bool | None = None
    affiliations: tuple[tuple[str, dt.date | None, dt.date | None], ...] = ()


@dataclass(frozen=True)
class Correction:
    """An administrator's correction, keyed by node keys or a domain; applied in `id` order (later wins)."""

    id: int
    kind: str  # merge | split | distinct | bot | domain | affiliation
    subject: str
    object: str | None = None
    is_bot: bool | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass
class Rules:
    bots: BotRules = field(default_factory=BotRules)
    people: tuple[PersonRule, ...] = ()
    distinct: tuple[tuple[str, str], ...] = ()
    anonymous_patterns: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = ()


@dataclass
class Component:
    key: str  # the smallest node key: a stable name for the person within one resolution
    nodes: list[str]
    identities: list[int]
    accounts: list[int]
    name: str
    is_bot: bool
    bot_reason: str | None
    is_anonymous: bool
    affiliations: list[tuple[str, dt.date | None, dt.date | None, str]]  # (organisation, start, end, source)


@dataclass(frozen=True)
class Suggestion:
    a: str
    b: str
    rule: str
    detail: str


@dataclass
class Outcome:
    components: list[Component]
    identity_rule: dict[int, tuple[str, str | None]]
    account_rule: dict[int, tuple[str, str | None]]
    suggestions: list[Suggestion]


# --- union-find with constraints --------------------------------------------------------------------------------------


class _Forest:
    """Union-find over node keys; each root knows its members, logins per platform and the nodes it must avoid.

    Only roots holding an account node have a logins entry: most nodes are addresses, and resolution makes one node
    per distinct address and account (hundreds of thousands at the largest scale)."""

    def __init__(self, distinct: dict[str, set[str]]) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        self.logins: dict[str, dict[str, set[str]]] = {}
        self.distinct = distinct
        self.joined_by: dict[str, tuple[str, str]] = {}  # node -> (rule, other node) of the first join touching it

    def add(self, node: str) -> None:
        if node not in self.parent:
            self.parent[node] = node
            self.members[node] = [node]
            if node.startswith("l:"):
                platform, login = node[2:].split(":", 1)
                self.logins[node] = {platform: {login}}

    def find(self, node: str) -> str:
        parent = self.parent
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    def platform_conflict(self, ra: str, rb: str) -> tuple[str, str, str] | None:
        la, lb = self.logins.get(ra), self.logins.get(rb)
        if not la or not lb:
            return None
        for platform in sorted(la.keys() & lb.keys()):
            if not (la[platform] <= lb[platform] or lb[platform] <= la[platform]):
                return platform, min(la[platform]), min(lb[platform])
        return None

    def distinct_conflict(self, ra: str, rb: str) -> bool:
        if not self.distinct:
            return False
        small, big = (ra, rb) if len(self.members[ra]) <= len(self.members[rb]) else (rb, ra)
        big_members = None
        for node in self.members[small]:
            avoid = self.distinct.get(node)
            if avoid:
                if big_members is None:
                    big_members = set(self.members[big])
                if avoid & big_members:
                    return True
        return False

    def union(self, a: str, b: str, rule: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        moved = self.logins.pop(rb, None)
        if moved:
            mine = self.logins.get(ra)
            if mine is None:
                self.logins[ra] = moved
            else:
                for platform, logins in moved.items():
                    mine.setdefault(platform, set()).update(logins)
        self.joined_by.setdefault(a, (rule, b))
        self.joined_by.setdefault(b, (rule, a))


# --- the resolution ---------------------------------------------------------------------------------------------------


def identity_node(ident: IdentityIn, account: AccountIn | None, anonymous_patterns: tuple[str, ...],
                  cache: dict | None = None) -> str:
    """Where an identity sits: its address; for an address that identifies nobody, the linked account, else itself."""
    email, anonymous, _ = classify_email(ident.email, anonymous_patterns, cache)
    if not anonymous:
        return f"e:{email}"
    if account is not None and account.login:
        return f"l:{account.platform}:{account.login.lower()}"
    return f"x:{email}\n{normalise_name(ident.name)}"


def classify_email(raw: str | None, anonymous_patterns: tuple[str, ...], cache: dict | None = None
                   ) -> tuple[str, bool, tuple[str, str] | None]:
    """(normalised address, identifies nobody, noreply (platform, login)); cached per raw value when given a cache."""
    known = cache.get(raw) if cache is not None else None
    if known is None:
        email = normalise_email(raw)
        anonymous = is_anonymous(email, anonymous_patterns)
        known = (email, anonymous, None if anonymous else parse_noreply(email))
        if cache is not None:
            cache[raw] = known
    return known


def resolve(identities: Iterable[IdentityIn], accounts: Iterable[AccountIn], rules: Rules) -> Outcome:
    accounts_by_id = {a.id: a for a in accounts}
    anon = rules.anonymous_patterns

    # effective corrections: later statements win over earlier ones on the same nodes
    merges: dict[frozenset, int] = {}
    distinct_db: set[frozenset] = set()
    isolated: dict[str, int] = {}
    bot_flags: dict[str, tuple[int, bool]] = {}
    affiliations_db: list[Correction] = []
    for c in sorted(rules.corrections, key=lambda c: c.id):
        pair = frozenset((c.subject, c.object or ""))
        if c.kind == "merge" and c.object and c.subject != c.object:
            merges[pair] = c.id
            distinct_db.discard(pair)
        elif c.kind == "distinct" and c.object:
            merges.pop(pair, None)
            distinct_db.add(pair)
        elif c.kind == "split":
            isolated[c.subject] = c.id
            for p in [p for p in merges if c.subject in p]:
                del merges[p]
        elif c.kind == "bot" and c.is_bot is not None:
            bot_flags[c.subject] = (c.id, c.is_bot)
        elif c.kind == "affiliation" and c.object:
            affiliations_db.append(c)

    distinct: dict[str, set[str]] = defaultdict(set)
    for pair in list(distinct_db) + [frozenset(p) for p in rules.distinct]:
        if len(pair) == 2:
            a, b = sorted(pair)
            distinct[a].add(b)
            distinct[b].add(a)
    forest = _Forest(distinct)
    add = forest.add

    # nodes: every identity and every login account (caches: many identities share an address, a name, an account)
    login_of = {a.id: f"l:{a.platform}:{a.login.lower()}" for a in accounts_by_id.values() if a.login}
    ident_node: dict[int, str] = {}
    node_names: dict[str, Counter] = defaultdict(Counter)
    automatic: set[tuple[int, str, str, str]] = set()
    emails: dict = {}
    names: dict = {}
    for ident in identities:
        email, anonymous, noreply = classify_email(ident.email, anon, emails)
        login_node = login_of.get(ident.account_id) if ident.account_id is not None else None
        raw_name = ident.name
        name = names.get(raw_name)
        if name is None:
            name = names[raw_name] = normalise_name(raw_name)
        if anonymous:
            node = login_node or f"x:{email}\n{name}"
            add(node)
        else:
            node = f"e:{email}"
            add(node)
            if login_node:
                add(login_node)
                automatic.add((2, node, login_node, RULE_LINKED))
            if noreply:
                other = f"l:{noreply[0]}:{noreply[1]}"
                add(other)
                automatic.add((3, node, other, RULE_NOREPLY))
        ident_node[ident.id] = node
        if name:
            node_names[node][name] += 1
    account_node: dict[int, str | None] = {}
    for account in accounts_by_id.values():
        node = login_of.get(account.id)
        if node is None:
            email, anonymous, _ = classify_email(account.email, anon, emails)
            node = None if anonymous else f"e:{email}"
        if node:
            add(node)
        account_node[account.id] = node

    # 1. corrections, then identities.yaml; 2-4. the automatic rules, in a fixed order
    for pair in sorted(merges, key=lambda p: merges[p]):
        a, b = sorted(pair)
        if a.startswith("x:") or b.startswith("x:"):
            continue
        forest.add(a)
        forest.add(b)
        forest.union(a, b, RULE_MERGE)
    for person in rules.people:
        members = [m for m in person.members if m not in isolated]
        for m in members:
            forest.add(m)
        for other in members[1:]:
            ra, rb = forest.find(members[0]), forest.find(other)
            if ra != rb and not forest.distinct_conflict(ra, rb):
                forest.union(members[0], other, RULE_FILE)
    suggestions: dict[tuple[str, str], Suggestion] = {}
    for _rank, a, b, rule in sorted(automatic):
        if a in isolated or b in isolated:
            continue
        ra, rb = forest.find(a), forest.find(b)
        if ra == rb:
            forest.joined_by.setdefault(a, (rule, b))
            forest.joined_by.setdefault(b, (rule, a))
            continue
        if forest.distinct_conflict(ra, rb):
            continue
        conflict = forest.platform_conflict(ra, rb)
        if conflict:
            platform, x, y = conflict
            key = tuple(sorted((a, b)))
            suggestions.setdefault(key, Suggestion(key[0], key[1], "same-platform",
                                                   f"{rule} would join {platform}:{x} and {platform}:{y}"))
            continue
        forest.union(a, b, rule)

    # 5. the same login on two platforms: a suggestion only
    by_login: dict[str, list[str]] = defaultdict(list)
    for node in forest.parent:
        if node.startswith("l:"):
            by_login[node.split(":", 2)[2]].append(node)
    for login, nodes in by_login.items():
        nodes.sort()
        for a, b in zip(nodes, nodes[1:]):
            if forest.find(a) != forest.find(b) and frozenset((a, b)) not in distinct_db \
                    and b not in distinct.get(a, ()):
                suggestions.setdefault((a, b), Suggestion(a, b, "same-login", f"login {login} on two platforms"))
    # suggestions already settled by a merge (same person now) or a rejection are dropped
    final_suggestions = [s for k, s in sorted(suggestions.items())
                         if forest.find(s.a) != forest.find(s.b) and frozenset(k) not in distinct_db]

    # components
    groups: dict[str, list[str]] = defaultdict(list)
    for node in forest.parent:
        groups[forest.find(node)].append(node)
    idents_by_node: dict[str, list[int]] = defaultdict(list)
    for iid, node in ident_node.items():
        idents_by_node[node].append(iid)
    accounts_by_node: dict[str, list[int]] = defaultdict(list)
    for aid, node in account_node.items():
        if node:
            accounts_by_node[node].append(aid)
    account_login_nodes = {n: [accounts_by_id[a] for a in ids] for n, ids in accounts_by_node.items()}
    people_by_node: dict[str, PersonRule] = {}
    for person in rules.people:
        for m in person.members:
            people_by_node.setdefault(m, person)
    affiliations_by_node: dict[str, list[Correction]] = defaultdict(list)
    for c in affiliations_db:
        affiliations_by_node[c.subject].append(c)

    components: list[Component] = []
    for nodes in groups.values():
        nodes.sort()
        idents = sorted(i for n in nodes for i in idents_by_node.get(n, ()))
        accts = sorted(a for n in nodes for a in accounts_by_node.get(n, ()))
        if not idents and not accts and not any(n in people_by_node for n in nodes):
            continue  # a login or address named only in a rule, with nothing collected behind it
        persons = [people_by_node[n] for n in nodes if n in people_by_node]
        is_bot, reason = _bot(nodes, persons, bot_flags, rules.bots, node_names, account_login_nodes)
        components.append(Component(
            key=nodes[0], nodes=nodes, identities=idents, accounts=accts,
            name=_display_name(nodes, persons, node_names, account_login_nodes),
            is_bot=is_bot, bot_reason=reason, is_anonymous=all(n.startswith("x:") for n in nodes),
            affiliations=_affiliations(nodes, persons, affiliations_by_node)))
    components.sort(key=lambda c: c.key)

    identity_rule: dict[int, tuple[str, str | None]] = {}
    node_rule: dict[str, tuple[str, str | None]] = {}  # every identity at one node has that node's rule
    for iid, node in ident_node.items():
        rule = node_rule.get(node)
        if rule is None:
            rule = node_rule[node] = _node_rule(node, forest, isolated, len(idents_by_node[node]))
        identity_rule[iid] = rule
    account_rule: dict[int, tuple[str, str | None]] = {}
    for aid, node in account_node.items():
        if node:
            account_rule[aid] = _node_rule(node, forest, isolated, 1) if node in forest.joined_by or \
                node in isolated or node.startswith("x:") else (RULE_OWN, None)
    return Outcome(components, identity_rule, account_rule, final_suggestions)


def _node_rule(node: str, forest: _Forest, isolated: dict[str, int], shared: int) -> tuple[str, str | None]:
    if node in forest.joined_by:
        rule, other = forest.joined_by[node]
        return rule, ref_of(other)
    if node.startswith("x:"):
        return RULE_ANONYMOUS, None
    if node in isolated:
        return RULE_SPLIT, None
    if node.startswith("e:") and shared > 1:
        return RULE_EMAIL, None
    return RULE_OWN, None


def _bot(nodes, persons, bot_flags, bots: BotRules, node_names, account_nodes) -> tuple[bool, str | None]:
    flagged = [(bot_flags[n][0], bot_flags[n][1], n) for n in nodes if n in bot_flags]
    if flagged:
        _, value, node = max(flagged)
        return value, f"correction on {ref_of(node)}"
    for person in persons:
        if person.is_bot is not None:
            return person.is_bot, f"identities.yaml people: {person.name or ''}".strip()
    for node in nodes:
        if node.startswith("l:"):
            platform, login = node[2:].split(":", 1)
            hit = bots.match_login(platform, login)
            if hit:
                return True, hit
        elif node.startswith("e:") or node.startswith("x:"):
            email = node[2:].split("\n", 1)[0]
            hit = bots.match_email(email)
            if hit:
                return True, hit
        counted = node_names.get(node)
        if counted:
            for name in sorted(counted):
                hit = bots.match_name(name)
                if hit:
                    return True, hit
        for account in account_nodes.get(node, ()):
            if account.platform_bot:
                return True, f"platform says bot: {account.platform}:{account.login or account.email}"
            if account.name:
                hit = bots.match_name(account.name)
                if hit:
                    return True, hit
    return False, None


def _display_name(nodes, persons, node_names, account_nodes) -> str:
    for person in persons:
        if person.name:
            return person.name
    names: Counter = Counter()
    for node in nodes:
        counted = node_names.get(node)
        if counted:
            names.update(counted)
    if names:
        return min(names.items(), key=lambda kv: (-kv[1], kv[0]))[0][:200]
    for node in nodes:
        for account in account_nodes.get(node, ()):
            if account.name:
                return account.name[:200]
    logins = [n[2:] for n in nodes if n.startswith("l:")]
    if logins:
        return logins[0][:200]
    return "(匿名 / anonymous)"


def _affiliations(nodes, persons, by_node) -> list[tuple[str, dt.date | None, dt.date | None, str]]:
    """Dated entries painted onto one timeline: corrections first (latest first), then identities.yaml; no overlaps."""
    if not persons and not any(n in by_node for n in nodes):
        return []
    entries: list[tuple[str, dt.date | None, dt.date | None, str]] = []
    corrections = sorted((c for n in nodes for c in by_node.get(n, ())), key=lambda c: -c.id)
    entries += [(c.object, c.start, c.end, "correction") for c in corrections if c.object]
    for person in persons:
        entries += [(org, start, end, "identities.yaml") for org, start, end in person.affiliations]
    return paint(entries)


def paint(entries: list[tuple[str, dt.date | None, dt.date | None, str]]
          ) -> list[tuple[str, dt.date | None, dt.date | None, str]]:
    """Non-overlapping [start, end) segments; an earlier entry wins where two overlap. None = open."""
    lo, hi = dt.date.min, dt.date.max
    taken: list[tuple[dt.date, dt.date, str, str]] = []
    for org, start, end, source in entries:
        pieces = [(start or lo, end or hi)]
        for ts, te, _, _ in taken:
            pieces = [p for s, e in pieces for p in ((s, min(e, ts)), (max(s, te), e)) if p[0] < p[1]]
        taken += [(s, e, org, source) for s, e in pieces if s < e]
    taken.sort()
    return [(org, None if s == lo else s, None if e == hi else e, source) for s, e, org, source in taken]
