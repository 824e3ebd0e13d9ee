"""In-memory model of hosted repositories that every emulated platform renders from.

One model, several API dialects: the GitHub routes (and later Gitee, GitCode, GitLab) are views of the same
accounts, repositories, commits, releases, issues and pull requests, so a test can compare what a collector
stored with exactly what the "platform" holds.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone


@dataclass
class Account:
    """A platform account (user or bot) that git e-mails can be linked to."""

    login: str
    id: int
    name: str | None = None
    email: str | None = None
    type: str = "User"  # "User" | "Bot" | "Organization"


@dataclass(frozen=True)
class Person:
    """A git identity as written in a commit (name + e-mail), linked to an account or not."""

    name: str
    email: str


@dataclass
class GitCommit:
    sha: str
    message: str
    author: Person
    authored_at: datetime
    committer: Person
    committed_at: datetime
    parents: tuple[str, ...] = ()


@dataclass
class Release:
    id: int
    tag_name: str
    name: str | None
    created_at: datetime
    published_at: datetime | None  # None for drafts
    author_login: str
    draft: bool = False
    prerelease: bool = False
    body: str = ""


@dataclass
class Comment:
    id: int
    author_login: str
    created_at: datetime
    body: str = ""


@dataclass
class Issue:
    """An issue or, with ``is_pull``, a pull request (they share one number space, as on GitHub)."""

    number: int
    title: str
    author_login: str
    created_at: datetime
    updated_at: datetime
    state: str = "open"  # open | closed
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    is_pull: bool = False
    draft: bool = False
    comments: list[Comment] = field(default_factory=list)
    id: int = 0


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime | None
    description: str | None = None
    default_branch: str = "main"
    licence: str | None = None  # SPDX id
    stars: int = 0
    forks: int = 0
    subscribers: int = 0
    archived: bool = False
    fork: bool = False
    commits: list[GitCommit] = field(default_factory=list)  # newest first, default branch only
    releases: list[Release] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # issues and pull requests
    only_on: tuple[str, ...] = ()  # platforms that host it (Gitee, GitCode and GitLab routes honour it); () = all

    def hosted_on(self, platform: str) -> bool:
        return not self.only_on or platform in self.only_on

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def open_issues(self) -> int:
        return sum(1 for i in self.issues if i.state == "open")


LICENCE_NAMES = {
    "MIT": ("mit", "MIT License"),
    "Apache-2.0": ("apache-2.0", "Apache License 2.0"),
    "GPL-3.0": ("gpl-3.0", "GNU General Public License v3.0"),
    "MulanPSL-2.0": ("mulanpsl-2.0", "Mulan Permissive Software License, Version 2"),
}


class World:
    """Everything the emulated platforms hold: accounts, linked e-mails, repositories, renames and deletions."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.linked_emails: dict[str, str] = {}  # e-mail (lower) -> login
        self.repos: dict[int, Repo] = {}
        self.redirects: dict[str, int] = {}  # old full name (lower) -> repo id
        self.gone: set[str] = set()  # deleted full names (lower)
        self._next_id = 1000

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_account(self, login: str, *, name: str | None = None, email: str | None = None,
                    type: str = "User") -> Account:
        account = Account(login=login, id=self.next_id(), name=name, email=email, type=type)
        self.accounts[login.lower()] = account
        if email:
            self.linked_emails[email.lower()] = login
        return account

    def account(self, login: str | None) -> Account | None:
        return self.accounts.get(login.lower()) if login else None

    def account_for_email(self, email: str) -> Account | None:
        login = self.linked_emails.get(email.lower())
        return self.accounts.get(login.lower()) if login else None

    def add_repo(self, full_name: str, *, created_at: datetime, **fields) -> Repo:
        owner, name = full_name.rsplit("/", 1)  # GitLab: the owner is a group path with subgroups
        if self.account(owner) is None:
            self.add_account(owner, type="Organization")
        repo = Repo(id=self.next_id(), owner=owner, name=name, created_at=created_at,
                    updated_at=fields.pop("updated_at", created_at), pushed_at=fields.pop("pushed_at", created_at),
                    **fields)
        self.repos[repo.id] = repo
        return repo

    def repo_by_name(self, full_name: str) -> Repo | None:
        wanted = full_name.lower()
        for repo in self.repos.values():
            if repo.full_name.lower() == wanted:
                return repo
        return None

    def rename_repo(self, repo: Repo, new_full_name: str) -> None:
        """Move/rename: the old name answers 301 to /repositories/{id} from now on."""
        self.redirects[repo.full_name.lower()] = repo.id
        repo.owner, repo.name = new_full_name.rsplit("/", 1)

    def delete_repo(self, repo: Repo) -> None:
        self.gone.add(repo.full_name.lower())
        del self.repos[repo.id]


def fake_sha(*parts: object) -> str:
    return hashlib.sha1("/".join(str(p) for p in parts).encode()).hexdigest()


UTC = timezone.utc


def generate_repo(world: World, full_name: str, *, commits: int = 0, seed: int = 0,
                  start: datetime = datetime(2023, 1, 1, tzinfo=UTC), step: timedelta = timedelta(hours=5),
                  unlinked_every: int = 0, merge_every: int = 0, bot_every: int = 0,
                  issues: int = 0, pulls: int = 0, releases: int = 0, licence: str | None = "Apache-2.0",
                  people: int = 6, **repo_fields) -> Repo:
    """Build a repository deterministically from ``seed``.

    ``unlinked_every=k`` makes every k-th commit's author an e-mail linked to no account (GitHub then sends a null
    ``author``); ``merge_every`` adds a second parent; ``bot_every`` has a bot author the commit. Issues and pull
    requests get comments from the author, from others and from a bot, so first-response logic has something to do.
    """
    rng = random.Random(seed)
    tag = full_name.replace("/", "-")
    humans = []
    for i in range(people):
        login = f"{tag}-dev{i}"
        account = world.account(login) or world.add_account(login, name=f"Developer {i} of {tag}",
                                                            email=f"dev{i}@{tag}.example.org")
        humans.append(account)
    bot = world.account("dependabot[bot]") or world.add_account(
        "dependabot[bot]", email="49699333+dependabot[bot]@users.noreply.github.com", type="Bot")
    bot.name = "dependabot[bot]"
    repo = world.add_repo(full_name, created_at=start - timedelta(days=1), licence=licence,
                          stars=rng.randint(0, 500), forks=rng.randint(0, 50), subscribers=rng.randint(1, 40),
                          description=f"Test repository {full_name}", **repo_fields)

    history: list[GitCommit] = []
    parent: str | None = None
    for n in range(commits):
        when = start + step * n + timedelta(seconds=rng.randint(0, 3600))
        if bot_every and n % bot_every == bot_every - 1:
            author = Person(bot.name or bot.login, bot.email or "")
        elif unlinked_every and n % unlinked_every == unlinked_every - 1:
            author = Person(f"Drive-by {n % 7}", f"drive-by-{n % 7}@unlinked.example.net")
        else:
            dev = humans[rng.randrange(len(humans))]
            author = Person(dev.name or dev.login, dev.email or "")
        sha = fake_sha(full_name, seed, n)
        parents: tuple[str, ...] = (parent,) if parent else ()
        if merge_every and n % merge_every == merge_every - 1 and parent:
            parents = (parent, fake_sha(full_name, seed, n, "side"))
        committer = Person("GitHub", "noreply@github.com") if len(parents) > 1 else author
        history.append(GitCommit(sha=sha, message=f"Change {n} of {full_name}\n\nDetails for change {n}.",
                                 author=author, authored_at=when - timedelta(minutes=rng.randint(0, 90)),
                                 committer=committer, committed_at=when, parents=parents))
        parent = sha
    repo.commits = list(reversed(history))
    if history:
        repo.pushed_at = history[-1].committed_at
        repo.updated_at = repo.pushed_at

    end = start + step * max(commits, 1)
    span = (end - start).total_seconds()
    number = 0
    for kind, count in (("issue", issues), ("pull", pulls)):
        for k in range(count):
            number += 1
            created = start + timedelta(seconds=int(span * (k + 1) / (count + 2)))
            author = humans[rng.randrange(len(humans))]
            item = Issue(number=number, id=world.next_id(), title=f"{kind.title()} {k} in {full_name}",
                         author_login=author.login, created_at=created, updated_at=created,
                         is_pull=(kind == "pull"))
            ncomments = rng.randint(0, 3)
            moment = created
            for c in range(ncomments):
                moment = moment + timedelta(hours=rng.randint(1, 48))
                who = rng.choice([author.login, bot.login] + [h.login for h in humans])
                item.comments.append(Comment(id=world.next_id(), author_login=who, created_at=moment,
                                             body=f"comment {c}"))
            item.updated_at = moment
            if rng.random() < 0.6:
                item.state = "closed"
                item.closed_at = moment + timedelta(hours=1)
                item.updated_at = item.closed_at
                if item.is_pull and rng.random() < 0.7:
                    item.merged_at = item.closed_at
            repo.issues.append(item)
    for k in range(releases):
        created = start + timedelta(seconds=int(span * (k + 1) / (releases + 1)))
        draft = k == releases - 1 and releases > 2
        repo.releases.append(Release(id=world.next_id(), tag_name=f"v{k}.0", name=None if k == 0 else f"Release {k}",
                                     created_at=created,
                                     published_at=None if draft else created + timedelta(minutes=30),
                                     author_login=humans[0].login, draft=draft, prerelease=(k % 3 == 2)))
    repo.releases.sort(key=lambda r: r.created_at, reverse=True)
    return repo
