"""Builds the sample in one transaction with bulk inserts, streaming repository by repository.

Determinism: every random choice comes from a `random.Random` seeded with (seed, section), ids are assigned here in
generation order, and the as-of date is fixed (`DEFAULT_AS_OF`) unless given, so the same seed gives the same rows.
"""
from __future__ import annotations

import datetime as dt
import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Connection

from collector import registry
from tracker import db as dbm
from tracker.formatting import beijing_day_end
from tracker.models import (
    Account,
    ActivityScope,
    CollectionResult,
    CollectionStream,
    CollectionRun,
    Commit,
    CommitIdentity,
    Community,
    CommunityRepository,
    IdentityCorrection,
    Issue,
    Organisation,
    Person,
    PullRequest,
    Release,
    Repository,
    RepositoryContributor,
    RepositorySnapshot,
)
from tracker.sample import integrity_case, names

DEFAULT_SEED = 2025
DEFAULT_AS_OF = dt.date(2026, 10, 31)  # the last day, in Beijing: activity up to 2026-10-31 23:59:59 +08:00
MONTHS = 24
BATCH = 5000
UTC = dt.timezone.utc

SAMPLE_GIT_HOST = "git.example.org"  # the plain git platform declares no host of its own
PLATFORM_WEIGHTS = [("gitcode", 30), ("gitee", 25), ("github", 25), ("gitlab", 15), ("git", 5)]
VERBS = ["fix", "add", "update", "refactor", "docs:", "test:", "feat:", "chore:", "perf:", "修复", "新增", "优化"]
BOTS = [("dependabot[bot]", "github", "49699333+dependabot[bot]@users.noreply.github.com"),
        ("renovate[bot]", "github", "29139614+renovate[bot]@users.noreply.github.com"),
        ("cq-sample-ci-bot", "gitee", "ci-bot@hongtu.example.com"),
        ("hongtu-ci-bot", "gitcode", "hongtu-ci@hongtu.example.com")]


class SampleError(RuntimeError):
    pass


def _api_url(platform: str) -> str:
    """The platform's declared default API root (collector.registry), or the sample git host."""
    return registry.get(platform).default_api_url or f"https://{SAMPLE_GIT_HOST}"


def _web_host(platform: str) -> str:
    """The platform's first declared web host, or the sample git host."""
    hosts = registry.get(platform).web_hosts
    return hosts[0] if hosts else SAMPLE_GIT_HOST


def expected_sizes(scale: int) -> dict[str, int]:
    """What a scale promises (the tests hold the build to within 10 %)."""
    if scale < 1:
        raise SampleError("scale must be at least 1")
    return {  # scale 1: the demo's 12 communities and 40 repositories, and the integrity case's 1 and 2
        "communities": 13 if scale == 1 else 10 * scale,
        "repositories": 42 if scale == 1 else 100 * scale,
        "commits": 20_000 * scale,
        "people": 300 * scale,
        "enterprises": 15 * scale,
        "products": 35 * scale,
    }


@dataclass
class SampleSummary:
    scale: int
    seed: int
    as_of: dt.date
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


Progress = Callable[[str, int, int], None]


def _rng(seed: int, section: str) -> random.Random:
    return random.Random(f"{seed}:{section}")


def _months(as_of: dt.date) -> list[dt.date]:
    """First days of the MONTHS months up to and including the as-of month."""
    first = as_of.replace(day=1)
    out = []
    y, m = first.year, first.month
    for _ in range(MONTHS):
        out.append(dt.date(y, m, 1))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


def _shape(shape: str, m: int) -> float:
    x = m / (MONTHS - 1)
    return {
        "growing": 0.25 + 1.75 * x,
        "declining": 2.0 - 1.8 * x,
        "seasonal": 1.0 + 0.7 * math.sin(2 * math.pi * (m + 2) / 12),
        "single": 0.8,
    }.get(shape, 1.0)


class _Ids:
    """Ids assigned here, in generation order, so that the rows are the same whatever the database."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        self.next[table] = self.next.get(table, 0) + 1
        return self.next[table]


class _Writer:
    """Buffers rows per table and flushes them in bulk, in the order tables were first written (foreign keys)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.buffers: dict[type, list[dict]] = {}
        self.counts: dict[str, int] = {}

    def add(self, model: type, row: dict) -> None:
        buf = self.buffers.setdefault(model, [])
        buf.append(row)
        if len(buf) >= BATCH:
            self.flush()  # every table, in first-written order, so foreign keys always point at stored rows

    def flush(self, model: type | None = None) -> None:
        for m in ([model] if model else list(self.buffers)):
            rows = self.buffers.get(m)
            if rows:
                self.conn.execute(insert(m), rows)
                self.counts[m.__tablename__] = self.counts.get(m.__tablename__, 0) + len(rows)
                self.buffers[m] = []


def build_sample(url: str, scale: int = 1, seed: int = DEFAULT_SEED, as_of: dt.date = DEFAULT_AS_OF,
                 progress: Progress | None = None, rules=None) -> SampleSummary:
    """Fill an empty database at schema head with the sample; all or nothing.

    `rules` (an AwardRuleSet, default the shipped config/awards.yaml) computes the sample's awards afterwards, as an
    administrator named "sample" would with `mtx awards recompute`.
    """
    started = time.perf_counter()
    sizes = expected_sizes(scale)
    dbm.ensure_schema_current(url)
    engine = dbm.get_engine(url)
    with engine.connect() as probe:
        if probe.scalar(select(func.count()).select_from(Community)):
            raise SampleError("数据库中已有数据 / the database already holds communities: use a new database "
                              "(or `mtx demo --reset`)")
    summary = SampleSummary(scale, seed, as_of)
    with engine.begin() as conn:
        writer = _Writer(conn)
        ids = _Ids()
        world = _World(seed, scale, as_of, sizes, ids, writer, progress or (lambda *_: None))
        world.organisations_and_people()
        world.communities_and_repositories()
        writer.flush()
        world.activity()
        writer.flush()
        world.collection_run()
        writer.flush()
        from tracker.sample.ledger import build_ledger

        build_ledger(conn, seed, scale, as_of, sizes, writer, ids)
        writer.flush()
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn, ids)
    _resolve_people(url, beijing_day_end(as_of))
    progress and progress("people", 1, 1)
    _compute_awards(url, rules)
    progress and progress("awards", 1, 1)
    summary.counts = _count(url)
    summary.seconds = time.perf_counter() - started
    return summary


def _compute_awards(url: str, rules) -> None:
    from pathlib import Path

    from tracker.access import Actor
    from tracker.ledger.awards import recompute_awards
    from tracker.ledger.rules import load_rule_set

    if rules is None:
        rules = load_rule_set(Path(__file__).resolve().parents[2] / "config" / "awards.yaml")
    with dbm.session_scope(url) as session:
        recompute_awards(session, Actor("sample", "admin"), rules)


def _resolve_people(url: str, now: dt.datetime) -> None:
    """People come from identity resolution, as after a collection: the sample writes identities, not people."""
    from pathlib import Path

    import yaml

    from tracker.access import Actor
    from tracker.config import IdentitiesFile, OrganisationsFile
    from tracker.people.resolve import resolve_people

    config = Path(__file__).resolve().parents[2] / "config"

    def read(name: str, model):
        path = config / name
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() \
            else model()

    from tracker.metrics import activity

    with dbm.session_scope(url) as session:
        session.execute(delete(ActivityScope))  # bulk-inserted commits: not kept in step, so resolution skips them
        resolve_people(session, Actor("sample", "admin"), read("identities.yaml", IdentitiesFile),
                       read("organisations.yaml", OrganisationsFile), now=now)
        activity.rebuild(session, now=now)  # the metrics' aggregates, as `mtx metrics --rebuild` builds them


def _advance_sequences(conn: Connection, ids: _Ids) -> None:
    """Rows were inserted with explicit ids: move each serial sequence past them."""
    for table in ids.next:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def _count(url: str) -> dict[str, int]:
    from tracker.models import Award, Certificate, Enterprise, Product

    out = {}
    with dbm.get_engine(url).connect() as conn:
        for label, model in [("communities", Community), ("repositories", Repository), ("commits", Commit),
                             ("people", Person), ("accounts", Account), ("releases", Release), ("issues", Issue),
                             ("pull_requests", PullRequest), ("enterprises", Enterprise), ("products", Product),
                             ("certificates", Certificate), ("awards", Award)]:
            out[label] = conn.scalar(select(func.count()).select_from(model))
    return out


@dataclass
class _PersonInfo:
    id: int
    name: str
    login: str
    email: str
    org: int | None  # index into organisations, None for free mail
    is_bot: bool = False
    extra_emails: tuple[str, ...] = ()


@dataclass
class _RepoInfo:
    id: int
    community: int
    platform: str
    path: str
    state: str
    weight: float
    mirror_of: int | None = None
    stop_month: int | None = None
    burst: object | None = None  # the integrity case's plan (tracker/sample/integrity_case.py)


class _World:
    def __init__(self, seed, scale, as_of, sizes, ids, writer, progress) -> None:
        self.seed, self.scale, self.as_of, self.sizes = seed, scale, as_of, sizes
        self.ids, self.w, self.progress = ids, writer, progress
        self.as_of_dt = beijing_day_end(as_of)  # as_of is the last day (Beijing) the sample covers
        self.months = _months(as_of)  # the 24 months that end with the as-of date's month
        self.people: list[_PersonInfo] = []
        self.bots: list[_PersonInfo] = []
        self.org_members: dict[int, list[int]] = {}
        self.org_ids: list[int] = []
        self.communities: list[dict] = []
        self.repos: list[_RepoInfo] = []
        self.accounts: dict[tuple[str, str], int] = {}
        self.identities: dict[str, int] = {}

    # --- organisations and people ---------------------------------------------------------------------------------

    def organisations_and_people(self) -> None:
        rng = _rng(self.seed, "people")
        orgs = list(names.ORGANISATIONS)
        for i in range(len(orgs), max(len(orgs), 2 * self.scale)):  # more fictional companies at larger scales
            orgs.append((f"示例企业{i:04d}有限公司（虚构）", "company", i % 3 == 0, f"co{i:04d}.example.com"))
        self.org_defs = orgs
        for name, kind, local, domain in orgs:
            oid = self.ids("organisations")
            self.org_ids.append(oid)
            self.w.add(Organisation, {"id": oid, "name": name, "kind": kind, "chongqing_local": local,
                                      "verified": True})
            self._correction("domain", domain, name)
        n_people = self.sizes["people"] - len(BOTS)
        used_logins: set[str] = set()
        for i in range(n_people):
            surname = rng.choice(names.SURNAMES)
            given, given_py = rng.choice(names.GIVEN)
            base = f"{names.SURNAMES_PINYIN[surname]}{given_py}"
            login = base if base not in used_logins else f"{base}{i}"
            used_logins.add(login)
            roll = rng.random()
            if roll < 0.55:
                org = rng.randrange(0, 6) if len(orgs) <= 11 or rng.random() < 0.5 else rng.randrange(11, len(orgs))
            elif roll < 0.72:
                org = rng.choice([6, 7, 8])
            elif roll < 0.75:
                org = rng.choice([9, 10])
            else:
                org = None
            domain = orgs[org][3] if org is not None else rng.choice(names.FREE_MAIL)
            local_part = login if org is not None else f"{login}{rng.randrange(10, 99999)}"
            person = _PersonInfo(0, surname + given, login, f"{local_part}@{domain}", org)
            if i == 0:  # one person with several e-mails and accounts on several platforms
                person = _PersonInfo(0, "陈晓明", "chenxm-dev", "chenxm@yuche.example.com", 0,
                                     extra_emails=("9527001@qq.com", "1234567+chenxm-dev@users.noreply.github.com"))
            person.id = self.ids("people")  # the generator's own numbering: people rows come from resolution
            self.people.append(person)
            if org is not None:
                self.org_members.setdefault(org, []).append(len(self.people) - 1)
                start = dt.date(rng.choice([2019, 2020, 2021, 2022, 2023, 2024]), rng.randrange(1, 13), 1)
                end = None
                if rng.random() < 0.06:  # moved to another organisation during the window
                    end = self.months[rng.randrange(6, 18)]
                    new_org = (org + 1) % 6
                    self._correction("affiliation", f"e:{person.email}", orgs[new_org][0], start=end)
                self._correction("affiliation", f"e:{person.email}", orgs[org][0], start=start, end=end)
        for login, platform, email in BOTS:
            bot = _PersonInfo(self.ids("people"), login, login, email, None, is_bot=True)
            self.bots.append(bot)
        self.progress("people", len(self.people), len(self.people))

    def _correction(self, kind: str, subject: str, object: str, start: dt.date | None = None,
                    end: dt.date | None = None) -> None:
        """What an administrator would have recorded: the fictional organisations' domains and dated jobs."""
        self.w.add(IdentityCorrection, {"id": self.ids("identity_corrections"), "kind": kind, "subject": subject,
                                        "object": object, "is_bot": None, "start_date": start, "end_date": end,
                                        "reason": "示例数据 / sample", "actor": "sample", "created_at": self.as_of_dt})

    def _identity(self, account_id: int, email: str, name: str, is_bot: bool) -> int:
        """One row per distinct (account, e-mail, name), as collection writes them."""
        key = f"{account_id}\n{email}\n{name}"
        identity_id = self.identities.get(key)
        if identity_id is None:
            identity_id = self.identities[key] = self.ids("commit_identities")
            self.w.add(CommitIdentity, {"id": identity_id, "key": key, "email": email, "name": name,
                                        "account_id": account_id, "is_bot": is_bot})
        return identity_id

    # --- communities and repositories -----------------------------------------------------------------------------

    def communities_and_repositories(self) -> None:
        rng = _rng(self.seed, "communities")
        specs = list(names.COMMUNITIES)
        shapes = ["growing", "declining", "steady", "seasonal", "company", "single", "steady", "growing"]
        focuses = ["automotive", "smart-terminal", "education", "other", "automotive", "smart-terminal"]
        generated = self.sizes["communities"] - (1 if self.scale == 1 else 0)  # the demo's integrity case: below
        for i in range(len(specs), generated):
            specs.append((f"sample-{i:04d}", f"示例社区 {i:04d}", focuses[i % len(focuses)], shapes[i % len(shapes)],
                          rng.randrange(len(self.org_defs))))
        if self.scale == 1:
            repo_counts = [5, 4, 3, 3, 5, 4, 3, 3, 3, 3, 1, 3]
        else:
            total = self.sizes["repositories"]
            raw = [rng.uniform(0.3, 1.7) for _ in specs]
            repo_counts = [max(1, round(total * r / sum(raw))) for r in raw]
        for ci, (slug, name, focus, shape, applicant) in enumerate(specs):
            cid = self.ids("communities")
            pool = self._pool(rng, shape, applicant)
            responsiveness = rng.choice([4.0, 12.0, 30.0, 72.0, 160.0])  # median hours to first response
            self.communities.append({"id": cid, "slug": slug, "shape": shape, "pool": pool,
                                     "weight": 0.25 if shape == "single" else rng.uniform(0.5, 2.0),
                                     "response_hours": responsiveness, "applicant": applicant})
            self.w.add(Community, {"id": cid, "slug": slug, "name_zh": name, "name_en": slug.replace("-", " ").title(),
                                   "focus": focus, "applicant": self.org_defs[applicant][0],
                                   "homepage": f"https://{slug}.example.org",
                                   "description": f"{name}：满天星示例数据，虚构社区，仅用于演示。",
                                   "created_at": self.as_of_dt})
            for ri in range(repo_counts[ci]):
                self._repository(rng, ci, ri)
        # everyone contributes somewhere (people exist only through what they did): the rest join open pools' tails
        pooled = {i for c in self.communities for i in c["pool"]}
        open_pools = [c for c in self.communities if c["shape"] not in ("single", "company")] or self.communities
        for k, i in enumerate(i for i in range(len(self.people)) if i not in pooled):
            open_pools[k % len(open_pools)]["pool"].append(i)
        if self.scale == 1:  # the demo's integrity case, after everything above so that it shifts nothing there
            integrity_case.add_community(self)
        self.progress("repositories", len(self.repos), len(self.repos))

    def _pool(self, rng: random.Random, shape: str, applicant: int) -> list[int]:
        n = len(self.people)
        if shape == "single":
            return [rng.randrange(1, n)] + rng.sample(range(1, n), 2)
        size = rng.randrange(15, 70)
        if shape == "company":
            staff = self.org_members.get(applicant, []) or [0]
            own = [rng.choice(staff) for _ in range(int(size * 0.8))]
            return own + rng.sample(range(n), size - len(own))
        pool = rng.sample(range(n), size)
        if 0 not in pool and rng.random() < 0.3:
            pool.append(0)
        return pool

    def _repository(self, rng: random.Random, ci: int, ri: int) -> None:
        community = self.communities[ci]
        slug = community["slug"]
        demo = self.scale == 1
        platform = rng.choices([p for p, _ in PLATFORM_WEIGHTS], [w for _, w in PLATFORM_WEIGHTS])[0]
        state, stop_month, mirror_of = "active", None, None
        others = names.REPO_WORDS[1:]  # the first word is "core", every community's first repository
        word = others[(ri + ci) % len(others)] if ri else names.REPO_WORDS[0]
        if ri > len(others):
            word = f"{word}-{ri}"
        if demo:  # the demo's hard cases, at fixed places
            platform = ["gitcode", "gitee", "github", "gitlab", "git"][(ci + ri) % 5]
            if (ci, ri) == (4, 0):
                platform = "gitcode"  # OpenHarmony-style: the main home on GitCode, mirrored on GitHub
            if (ci, ri) == (1, 2):
                word = "platform/ui"  # a GitLab subgroup project
                platform = "gitlab"
            if (ci, ri) == (5, 3):
                state, word = "empty", "placeholder"
            if (ci, ri) == (3, 2):
                state, word, stop_month = "archived", "legacy-bus", 14
        owner = f"{slug}-example"
        path = f"{owner}/{word}"
        if demo and (ci, ri) == (4, 1):  # the GitHub mirror of this community's GitCode core repository
            platform, path = "github", f"{owner}/core"
            mirror_of = next(r for r in self.repos if r.community == ci and r.path.endswith("/core")).id
        rid = self.ids("repositories")
        weight = community["weight"] * (1.0 / (ri + 1) ** 0.7) * rng.uniform(0.7, 1.3)
        if state == "empty":
            weight = 0.0
        self.repos.append(_RepoInfo(rid, ci, platform, path, state, weight, mirror_of, stop_month))
        licence = rng.choice(["Apache-2.0", "Apache-2.0", "MulanPSL-2.0", "MIT", "BSD-3-Clause", "GPL-2.0-only", None])
        self._repository_rows(community, rid, platform, path, licence, state)

    def _repository_rows(self, community: dict, rid: int, platform: str, path: str, licence: str | None,
                         state: str = "active") -> None:
        self.w.add(Repository, {"id": rid, "platform": platform, "api_url": _api_url(platform), "path": path,
                                "web_url": f"https://{_web_host(platform)}/{path}", "default_branch": "master"
                                if platform in ("gitee", "gitcode") else "main", "licence": licence,
                                "state": state, "is_fork": False, "description": f"{path}（示例仓库）",
                                "first_seen_at": self.as_of_dt})
        self.w.add(CommunityRepository, {"community_id": community["id"], "repository_id": rid, "source": "config"})

    # --- activity -------------------------------------------------------------------------------------------------

    def _key(self, platform: str, person: _PersonInfo, linked: bool) -> str:
        key = f"login:{person.login.lower()}" if linked else f"email:{person.email.lower()}"
        if person.id == self.people[0].id and linked:
            key = f"login:{ {'github': 'chenxm-dev', 'gitee': 'chen-xiaoming'}.get(platform, 'chenxm') }"
        return key

    def _committed_here(self, platform: str, person: _PersonInfo) -> bool:
        return (platform, self._key(platform, person, True)) in self.accounts

    def _account(self, platform: str, person: _PersonInfo, linked: bool) -> int:
        key = self._key(platform, person, linked)
        account_id = self.accounts.get((platform, key))
        if account_id is None:
            account_id = self.ids("accounts")
            self.accounts[(platform, key)] = account_id
            self.w.add(Account, {"id": account_id, "platform": platform, "key": key,
                                 "login": key[6:] if linked else None, "name": person.name,
                                 "email": None if linked else person.email, "is_bot": person.is_bot,
                                 "platform_bot": person.is_bot, "person_id": None})
        return account_id

    def activity(self) -> None:
        total_weight = sum(r.weight for r in self.repos if r.mirror_of is None and r.burst is None) or 1.0
        target = self.sizes["commits"]
        generated: dict[int, list[dict]] = {}
        for position, repo in enumerate(self.repos, 1):
            rng = _rng(self.seed, f"repo:{repo.id}")
            community = self.communities[repo.community]
            if repo.mirror_of is not None:
                commits = [dict(c, repository_id=repo.id) for c in generated.pop(repo.mirror_of)]
                commits = [self._relink(c, repo.platform) for c in commits]
            elif repo.burst is not None:
                commits = integrity_case.commits(self, rng, repo, community)
            else:
                n = round(target * repo.weight / total_weight)
                commits = self._commits(rng, repo, community, n)
                if any(r.mirror_of == repo.id for r in self.repos):
                    generated[repo.id] = commits
            for c in commits:
                self.w.add(Commit, {k: v for k, v in c.items() if not k.startswith("_")})
            self._releases(rng, repo)
            served = registry.get(repo.platform).figure_streams  # a plain git host: no issues, pulls or stars
            open_issues = self._work_items(rng, repo, community, len(commits)) if "issues" in served else 0
            if "repo" in served and repo.burst is not None:
                integrity_case.snapshots(self, rng, repo, open_issues)
            elif "repo" in served:
                self._snapshots(rng, repo, community, open_issues)
            self._contributors(repo, commits)
            self.progress("activity", position, len(self.repos))

    def _relink(self, commit: dict, platform: str) -> dict:
        person = commit["_person"]
        commit["author_account_id"] = self._account(platform, person, commit["_linked"])
        commit["committer_account_id"] = commit["author_account_id"]
        commit["author_identity_id"] = self._identity(commit["author_account_id"], commit["author_email"],
                                                      commit["author_name"], person.is_bot)
        return commit

    def _commits(self, rng: random.Random, repo: _RepoInfo, community: dict, n: int) -> list[dict]:
        if n <= 0 or repo.state == "empty":
            return []
        shape = community["shape"]
        factors = [(_shape(shape, m) * rng.lognormvariate(0, 0.25)) if repo.stop_month is None or m < repo.stop_month
                   else 0.0 for m in range(MONTHS)]
        total = sum(factors) or 1.0
        pool = community["pool"]
        zipf = [1 / (rank + 1) ** 1.1 for rank in range(len(pool))]
        if shape == "single":
            zipf = [0.95] + [0.025] * (len(pool) - 1)
        commits = []
        for m, factor in enumerate(factors):
            count = round(n * factor / total)
            start = dt.datetime.combine(self.months[m], dt.time(), UTC)
            end = min(dt.datetime.combine(self.months[m + 1], dt.time(), UTC) if m + 1 < MONTHS else self.as_of_dt,
                      self.as_of_dt)
            span = max(1, int((end - start).total_seconds()) - 1)
            for _ in range(count):
                is_bot = rng.random() < 0.03 and repo.platform in ("github", "gitee", "gitcode")
                if is_bot:
                    person = next((b for b in self.bots if b.login.endswith("[bot]") == (repo.platform == "github")),
                                  self.bots[0])
                else:
                    person = self.people[rng.choices(pool, zipf)[0]]
                when = start + dt.timedelta(seconds=rng.randrange(span))
                commits.append(self._commit_row(rng, repo, person, when, is_bot))
        commits.sort(key=lambda c: c["author_time"])
        return commits

    def _commit_row(self, rng: random.Random, repo: _RepoInfo, person: _PersonInfo, when: dt.datetime,
                    is_bot: bool) -> dict:
        """One commit by ``person`` at ``when``: linked or not, a merge or not, its sha and title, from ``rng``."""
        linked = is_bot or rng.random() < 0.85
        is_merge = rng.random() < 0.06
        email = person.email
        if person.extra_emails and rng.random() < 0.5:
            email = rng.choice(person.extra_emails)
        account = self._account(repo.platform, person, linked)
        web_merge = is_merge and repo.platform != "git" and rng.random() < 0.7
        return {
            "repository_id": repo.id, "sha": f"{rng.getrandbits(160):040x}",
            "author_name": person.name, "author_email": email, "author_time": when,
            "committer_name": "GitHub" if web_merge and repo.platform == "github" else
            ("Gitee" if web_merge else person.name),
            "committer_email": f"noreply@{_web_host(repo.platform)}" if web_merge else email,
            "committer_time": when + dt.timedelta(minutes=rng.randrange(0, 600)) if is_merge else when,
            "author_account_id": account, "committer_account_id": None if web_merge else account,
            "author_identity_id": self._identity(account, email, person.name, person.is_bot),
            "is_merge": is_merge, "is_bot": person.is_bot,
            "message_title": f"{rng.choice(VERBS)} "
                             f"{rng.choice(names.REPO_WORDS)}"
                             + (" (Merge pull request)" if is_merge else ""),
            "_person": person, "_linked": linked,
        }

    def _releases(self, rng: random.Random, repo: _RepoInfo) -> None:
        if repo.state == "empty" or repo.weight == 0:
            return
        major, minor, patch = rng.randrange(0, 3), 0, 0
        m = rng.randrange(0, 4)
        while m < MONTHS and (repo.stop_month is None or m < repo.stop_month):
            when = dt.datetime.combine(self.months[m], dt.time(), UTC) + dt.timedelta(days=rng.randrange(0, 27),
                                                                                    hours=rng.randrange(24))
            if when >= self.as_of_dt:
                break
            if rng.random() < 0.25:
                minor, patch = minor + 1, 0
            else:
                patch += 1
            pre = rng.random() < 0.15
            tag = f"v{major}.{minor}.{patch}" + ("-rc1" if pre else "")
            self.w.add(Release, {"id": self.ids("releases"), "repository_id": repo.id, "tag": tag,
                                 "name": f"{tag} 版本发布", "published_at": when, "prerelease": pre})
            m += rng.choice([1, 2, 2, 3, 4]) if repo.weight > 0.3 else rng.choice([3, 5, 8])

    def _work_items(self, rng: random.Random, repo: _RepoInfo, community: dict, n_commits: int) -> int:
        if repo.state == "empty" or n_commits == 0:
            return 0
        pool = community["pool"]
        median = community["response_hours"]
        open_count = 0
        number = 0
        per_month = max(1, n_commits // MONTHS)
        for kind, ratio in (("issue", 0.14), ("pull", 0.11)):
            for m in range(MONTHS):
                if repo.stop_month is not None and m >= repo.stop_month:
                    break
                count = max(0, round(per_month * ratio * _shape(community["shape"], m) * rng.uniform(0.5, 1.5)))
                start = dt.datetime.combine(self.months[m], dt.time(), UTC)
                for _ in range(count):
                    number += 1
                    created = start + dt.timedelta(seconds=rng.randrange(28 * 86400))
                    if created >= self.as_of_dt:
                        continue
                    person = self.people[rng.choice(pool)]
                    if not self._committed_here(repo.platform, person):
                        # authors of issues and pulls are people whose account a commit links to their address
                        person = next((self.people[i] for i in pool
                                       if self._committed_here(repo.platform, self.people[i])), person)
                    age_days = (self.as_of_dt - created).days
                    closed = rng.random() < (0.8 if age_days > 60 else 0.45)
                    closed_at = created + dt.timedelta(hours=rng.expovariate(1 / (24 * 9))) if closed else None
                    if closed_at and closed_at >= self.as_of_dt:
                        closed_at, closed = None, False
                    comments = min(40, int(rng.expovariate(1 / 3.5)))
                    responded = comments > 0 and rng.random() < 0.9
                    first = created + dt.timedelta(hours=rng.lognormvariate(math.log(median), 1.0)) if responded else None
                    if first and first >= self.as_of_dt:
                        first = None
                    updated = max(t for t in (created, closed_at, first) if t is not None)
                    account = self._account(repo.platform, person, True)
                    row = {"repository_id": repo.id, "title": f"{rng.choice(VERBS)} {rng.choice(names.REPO_WORDS)}",
                           "author_login": person.login, "author_account_id": account, "created_at": created,
                           "updated_at": updated, "closed_at": closed_at, "comments": comments,
                           "first_response_at": first}
                    if kind == "issue":
                        open_count += 0 if closed else 1
                        row["number"] = (f"I{rng.getrandbits(24):06X}"[:7] if repo.platform in ("gitee", "gitcode")
                                         else str(number))
                        row.update(id=self.ids("issues"), state="closed" if closed else "open")
                        self.w.add(Issue, row)
                    else:
                        merged = closed and rng.random() < 0.8
                        row.update(id=self.ids("pull_requests"), number=str(number),
                                   state="merged" if merged else ("closed" if closed else "open"),
                                   merged_at=closed_at if merged else None)
                        self.w.add(PullRequest, row)
        return open_count

    def _snapshots(self, rng: random.Random, repo: _RepoInfo, community: dict, open_issues: int) -> None:
        final_stars = int(rng.lognormvariate(math.log(40 + 400 * community["weight"] * max(repo.weight, 0.05)), 0.8))
        if repo.state == "empty":
            final_stars = rng.randrange(0, 4)
        created = dt.datetime.combine(self.months[0], dt.time(), UTC) - dt.timedelta(days=rng.randrange(30, 1500))
        for m in range(MONTHS):
            month_end = self.months[m + 1] - dt.timedelta(days=1) if m + 1 < MONTHS else self.as_of
            growth = _shape(community["shape"], m) if community["shape"] != "declining" else 1.0
            share = ((m + 1) / MONTHS) ** (1.3 if growth > 1 else 0.8)
            stars = int(final_stars * share)
            last_push = (repo.stop_month - 1) if repo.stop_month else m
            self.w.add(RepositorySnapshot, {
                "id": self.ids("repository_snapshots"), "repository_id": repo.id, "taken_on": month_end,
                "taken_at": beijing_day_end(month_end) - dt.timedelta(hours=1), "stars": stars,  # 23:00 Beijing
                "forks": int(stars * 0.18), "subscribers": max(1, int(stars * 0.05)),
                "open_issues": open_issues if m == MONTHS - 1 else None, "created_at": created,
                "pushed_at": None if repo.state == "empty" else
                dt.datetime.combine(self.months[min(m, last_push)], dt.time(12), UTC)})

    def _contributors(self, repo: _RepoInfo, commits: list[dict]) -> None:
        counts: dict[tuple, int] = {}
        for c in commits:
            person = c["_person"]
            counts[(person.login, person.name, person.email)] = counts.get((person.login, person.name, person.email), 0) + 1
        for (login, name, email), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:100]:
            self.w.add(RepositoryContributor, {"id": self.ids("repository_contributors"), "repository_id": repo.id,
                                               "key": f"login:{login.lower()}", "login": login, "name": name,
                                               "email": None, "contributions": n, "seen_at": self.as_of_dt})

    def collection_run(self) -> None:
        """Records the sample as one finished collection run, just after the as-of date ends: every stream of every
        repository counts as collected for metrics as of that date (and stale for later dates)."""
        finished = self.as_of_dt + dt.timedelta(hours=1)
        run_id = self.ids("collection_runs")
        self.w.add(CollectionRun, {"id": run_id, "started_at": finished - dt.timedelta(minutes=25), "finished_at": finished,
                                   "status": "ok", "actor": "sample", "host": "sample", "pid": 0,
                                   "options": {"source": "sample", "seed": self.seed, "scale": self.scale}})
        self.w.flush(CollectionRun)
        for repo in self.repos:
            self.w.add(CollectionResult, {"id": self.ids("collection_results"), "run_id": run_id,
                                          "repository_id": repo.id, "status": "ok", "items": {},
                                          "requests": 0, "not_modified": 0, "rate_limit_waits": 0, "wait_seconds": 0.0,
                                          "error": None, "started_at": finished - dt.timedelta(minutes=20),
                                          "finished_at": finished, "duration_seconds": 0.0})
            for stream in registry.get(repo.platform).streams:
                self.w.add(CollectionStream, {"repository_id": repo.id, "stream": stream, "last_attempt_at": finished,
                                              "last_status": "ok", "last_success_at": finished})

