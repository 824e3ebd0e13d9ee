"""A small world, stored the way collection stores it, whose every metric is worked out by hand in the tests.

Why hand-built: the sample is too large to reason about line by line. Here each commit, issue and pull request is
there for one rule of issue 17 (a mirror, a bot, a merge, a window edge, an affiliation change, an unanswered issue),
and the tests next to this module say, in comments, what each signal must be and why.

Everything goes through the real write path: collector records into ``tracker.collect.store`` inside a session,
people from ``tracker.people.resolve.resolve_people`` with the identities.yaml / organisations.yaml written into the
configuration directory, and collection freshness as ``collection_streams`` rows (what the job writes at the end of
a stream). Times are UTC; the as-of date of the tests, 2026-10-31, ends at 2026-10-31T16:00:00Z.

    community alpha   github:alpha/core, gitee:alpha/core-mirror (shares shas A1-A3 with core), git:alpha/tools
    community beta    git:beta/only (a community of git-only repositories)
    community gamma   github:gamma/app (its commits stream failed after an older success, issues never collected,
                      releases failed every time, pulls collected and empty)
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

import collector.records as rec
from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.collect import store
from tracker.config import load_config
from tracker.models import CollectionStream, Community, CommunityRepository, Repository
from tracker.people.resolve import resolve_people

UTC = dt.timezone.utc
AS_OF = "2026-10-31"
COLLECTED = dt.datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # every healthy stream finished after as-of ended
SNAPSHOT_DAY = dt.date(2026, 10, 31)


def t(text: str) -> dt.datetime:
    """An ISO time written without zone, in UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


IDENTITIES = {
    "bots": {"patterns": [r"\[bot\]$"], "emails": [], "logins": []},
    # Bob's address is Acme's, but from 2026-10-15 (a Beijing date) he is affiliated with Chongqing University
    "people": [{"name": "Bob", "emails": ["bob@acme.com"],
                "affiliations": [{"organisation": "重庆大学", "start": "2026-10-15"}]}],
}
ORGANISATIONS = {
    "free_mail_domains": ["qq.com"],
    "organisations": [
        {"name": "Acme", "domains": ["acme.com"]},
        {"name": "Beacon", "domains": ["beacon.io"]},
        {"name": "重庆大学", "kind": "university", "chongqing_local": True, "domains": ["cqu.edu.cn"]},
    ],
}

PEOPLE = {  # key -> (name, e-mail)
    "alice": ("Alice", "alice@acme.com"),
    "bob": ("Bob", "bob@acme.com"),
    "carol": ("Carol", "carol@cqu.edu.cn"),
    "dave": ("Dave", "dave@beacon.io"),
    "erin": ("Erin", "erin@qq.com"),        # free mail: an individual
    "frank": ("Frank", "frank@acme.com"),
    "bot": ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
}

# (sha, person, author time UTC, merge?) per repository
CORE_COMMITS = [
    ("a1", "alice", "2026-10-01T02:00:00", False),   # Beijing 10-01 10:00: in the 365-day window, not the 30-day one
    ("a2", "alice", "2026-10-20T02:00:00", False),
    ("a3", "bob", "2026-10-14T15:59:59", False),     # Beijing 10-14 23:59:59: before Bob's CQU affiliation -> Acme
    ("a4", "bob", "2026-10-14T16:00:00", False),     # Beijing 10-15 00:00:00: affiliated -> 重庆大学
    ("a5", "alice", "2026-10-21T02:00:00", True),    # a merge commit: never counted
    ("a6", "bot", "2026-10-22T02:00:00", False),     # a bot: never counted
    ("a7", "carol", "2026-10-31T15:59:59", False),   # Beijing 10-31 23:59:59: the last second of as-of, counted
    ("a8", "carol", "2026-10-31T16:00:00", False),   # Beijing 11-01 00:00:00: after as-of, never counted
    ("a9", "frank", "2025-10-31T15:59:59", False),   # Beijing 2025-10-31: one day before the 365-day window
    ("a10", "alice", "2025-10-31T16:00:00", False),  # Beijing 2025-11-01 00:00: the window's first second
]
MIRROR_COMMITS = [
    ("a1", "alice", "2026-10-01T02:00:00", False),   # the same three commits, mirrored
    ("a2", "alice", "2026-10-20T02:00:00", False),
    ("a3", "bob", "2026-10-14T15:59:59", False),
    ("b1", "erin", "2026-09-10T00:00:00", False),
]
TOOLS_COMMITS = [("g1", "dave", "2026-06-01T00:00:00", False)]
BETA_COMMITS = [
    ("h1", "dave", "2026-10-05T00:00:00", False),
    ("h2", "bot", "2026-10-25T00:00:00", False),     # later, but a bot: not the latest update
    ("h3", "dave", "2026-10-28T00:00:00", True),     # later, but a merge: not the latest update either
]
GAMMA_COMMITS = [("k1", "alice", "2026-10-10T00:00:00", False)]

CORE_RELEASES = [
    rec.Release("v0.9", "0.9", t("2025-06-01T00:00:00"), False, False),   # older than 365 days
    rec.Release("v1.0", "1.0", t("2026-03-01T00:00:00"), False, False),
    rec.Release("v1.1-rc1", "1.1 rc1", t("2026-10-30T00:00:00"), True, False),  # a prerelease: counted
    rec.Release("v2.0-draft", "draft", None, False, True),                # a draft: not a release
]
MIRROR_RELEASES = [rec.Release("v1.0", "1.0", t("2026-03-01T00:00:00"), False, False)]  # the mirrored tag
TOOLS_RELEASES = [rec.Release("tools-1.0", None, t("2026-05-01T00:00:00"), False, False)]  # a git tag


def issue(number, created, updated, closed=None, comments=0, response=None) -> rec.Issue:
    return rec.Issue(str(number), f"issue {number}", "closed" if closed else "open", "reporter", t(created),
                     t(updated), t(closed) if closed else None, comments, t(response) if response else None)


def pull(number, created, updated, closed=None, merged=None) -> rec.PullRequest:
    state = "merged" if merged else ("closed" if closed else "open")
    return rec.PullRequest(str(number), f"pull {number}", state, "author", t(created), t(updated),
                           t(closed or merged) if (closed or merged) else None, t(merged) if merged else None,
                           None, None)


CORE_ISSUES = [
    issue(1, "2026-09-01T00:00:00", "2026-09-10T00:00:00", closed="2026-09-10T00:00:00", comments=4,
          response="2026-09-03T00:00:00"),
    issue(2, "2026-10-01T00:00:00", "2026-10-01T00:00:00", comments=0),                 # never answered
    issue(3, "2026-08-02T15:59:59", "2026-08-20T00:00:00", closed="2026-08-20T00:00:00", comments=2,
          response="2026-08-03T00:00:00"),      # opened Beijing 08-02 23:59:59: the day before the 90-day window
    issue(4, "2026-08-02T16:00:00", "2026-08-02T22:00:00", comments=1,
          response="2026-08-02T22:00:00"),      # opened Beijing 08-03 00:00: the window's first second
    issue(5, "2026-05-01T00:00:00", "2026-05-05T00:00:00", closed="2026-05-05T00:00:00", comments=9,
          response="2026-05-02T00:00:00"),      # all before the window
    issue(6, "2026-10-30T00:00:00", "2026-11-02T00:00:00", comments=1,
          response="2026-11-02T00:00:00"),      # answered after as-of: unanswered at the end of as-of
    issue(7, "2026-10-20T16:00:00", "2026-10-20T16:00:00", comments=2),                 # never answered
]
MIRROR_ISSUES = [  # the Gitee mirror's own tracker: its issues are other issues
    issue("I8", "2026-10-10T00:00:00", "2026-10-14T00:00:00", comments=3, response="2026-10-14T00:00:00"),
]
CORE_PULLS = [
    pull(1, "2026-09-01T00:00:00", "2026-09-03T12:00:00", merged="2026-09-03T12:00:00"),
    pull(2, "2026-10-01T00:00:00", "2026-10-02T00:00:00", closed="2026-10-02T00:00:00"),  # closed unmerged
    pull(3, "2026-07-01T00:00:00", "2026-08-02T15:59:59", merged="2026-08-02T15:59:59"),  # merged before the window
    pull(4, "2026-08-01T00:00:00", "2026-08-02T16:00:00", merged="2026-08-02T16:00:00"),  # the window's first second
    pull(5, "2026-10-15T00:00:00", "2026-10-15T00:00:00"),                                # open
]
MIRROR_PULLS = [pull(6, "2026-10-10T00:00:00", "2026-10-16T00:00:00", merged="2026-10-16T00:00:00")]


def commits(rows, login_platform: str | None = None) -> list[rec.Commit]:
    """Records as a collector yields them; the collector's own bot guess is off, so resolution's rule decides."""
    out = []
    for sha, who, when, merge in rows:
        name, email = PEOPLE[who]
        login = who if login_platform == "github" and who != "erin" else None
        out.append(rec.Commit(sha=sha.rjust(40, "0"), author_name=name, author_email=email, author_login=login,
                              author_time=t(when), committer_name=name, committer_email=email,
                              committer_login=login, committer_time=t(when), is_merge=merge, is_bot=False,
                              message_title=f"commit {sha}"))
    return out


def snapshot(platform, path, stars, forks, created) -> rec.RepoSnapshot:
    return rec.RepoSnapshot(platform=platform, path=path, state="active", default_branch="main", stars=stars,
                            forks=forks, created_at=t(created))


def write_config(directory: Path, models: dict[str, dict] | None = None) -> Path:
    """communities.yaml (only the collection settings: communities live in the database here), people, models."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "communities.yaml").write_text(yaml.safe_dump({"collection": {"stale_after_days": 3},
                                                                "communities": []}), encoding="utf-8")
    (directory / "identities.yaml").write_text(yaml.safe_dump(IDENTITIES, allow_unicode=True), encoding="utf-8")
    (directory / "organisations.yaml").write_text(yaml.safe_dump(ORGANISATIONS, allow_unicode=True),
                                                  encoding="utf-8")
    if models:
        (directory / "models").mkdir(exist_ok=True)
        for name, data in models.items():
            (directory / "models" / f"{name}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                                               encoding="utf-8")
    return directory


def _repository(s, platform: str, path: str) -> Repository:
    repo = Repository(platform=platform, api_url=f"https://{platform}.test", path=path)
    s.add(repo)
    s.flush()
    return repo


def _collected(s, repo: Repository, streams, at=COLLECTED, status="ok", success=None) -> None:
    for stream in streams:
        s.add(CollectionStream(repository_id=repo.id, stream=stream, last_attempt_at=at, last_status=status,
                               last_success_at=at if status == "ok" else success))


API_STREAMS = ("repo", "commits", "releases", "contributors", "issues", "pulls")
GIT_STREAMS = ("commits", "releases", "contributors")


def build(url: str, config_dir: Path, resolve: bool = True) -> None:
    """Store the world into an empty database at schema head; then resolve people with the config's rules."""
    with dbm.session_scope(url) as s:
        communities = {slug: Community(slug=slug, name_zh=f"社区 {slug}", focus="other")
                       for slug in ("alpha", "beta", "gamma")}
        s.add_all(communities.values())
        s.flush()
        core = _repository(s, "github", "alpha/core")
        mirror = _repository(s, "gitee", "alpha/core-mirror")
        tools = _repository(s, "git", "alpha/tools")
        only = _repository(s, "git", "beta/only")
        app = _repository(s, "github", "gamma/app")
        for slug, repos in (("alpha", (core, mirror, tools)), ("beta", (only,)), ("gamma", (app,))):
            for repo in repos:
                s.add(CommunityRepository(community_id=communities[slug].id, repository_id=repo.id))
        s.flush()

        store.store_commits(s, core, commits(CORE_COMMITS, "github"))
        store.store_commits(s, mirror, commits(MIRROR_COMMITS))
        store.store_commits(s, tools, commits(TOOLS_COMMITS))
        store.store_commits(s, only, commits(BETA_COMMITS))
        store.store_commits(s, app, commits(GAMMA_COMMITS, "github"))
        store.store_releases(s, core, CORE_RELEASES)
        store.store_releases(s, mirror, MIRROR_RELEASES)
        store.store_releases(s, tools, TOOLS_RELEASES)
        store.store_issues(s, core, CORE_ISSUES)
        store.store_issues(s, mirror, MIRROR_ISSUES)
        store.store_pulls(s, core, CORE_PULLS)
        store.store_pulls(s, mirror, MIRROR_PULLS)
        store.store_snapshot(s, core, snapshot("github", "alpha/core", 10, 2, "2020-01-15T00:00:00"),
                             dt.date(2026, 10, 30), t("2026-10-30T01:00:00"))
        store.store_snapshot(s, core, snapshot("github", "alpha/core", 99, 9, "2020-01-15T00:00:00"),
                             dt.date(2026, 11, 5), t("2026-11-05T01:00:00"))  # after as-of: not read for it
        store.store_snapshot(s, mirror, snapshot("gitee", "alpha/core-mirror", 5, 1, "2021-06-01T00:00:00"),
                             SNAPSHOT_DAY, t("2026-10-31T01:00:00"))
        store.store_snapshot(s, app, snapshot("github", "gamma/app", 0, 0, "2026-01-01T00:00:00"),
                             SNAPSHOT_DAY, t("2026-10-31T01:00:00"))

        for repo in (core, mirror):
            _collected(s, repo, API_STREAMS)
        for repo in (tools, only):
            _collected(s, repo, GIT_STREAMS)
        _collected(s, app, ("repo", "contributors", "pulls"))   # pulls: read to the end, there were none
        # commits: the last run failed; the last success was before as-of ended (2026-10-31T16:00Z)
        _collected(s, app, ("commits",), status="failed", success=t("2026-10-31T15:00:00"))
        _collected(s, app, ("releases",), status="failed", success=None)  # never succeeded
        # issues: no row at all (never attempted)
    if resolve:
        resolve_config(url, config_dir)


def resolve_config(url: str, config_dir: Path):
    config = load_config(config_dir)
    with dbm.session_scope(url) as s:
        return resolve_people(s, SYSTEM, config.identities, config.organisations)
