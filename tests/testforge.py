"""TestForge: a platform that exists only in the tests, declared — collector and all — in this one module.

It is how a new platform is added (docs/collectors.md, "Adding a platform"): nothing else in the project names it.
The registry finds it through ``MTX_PLATFORM_MODULES=tests.testforge`` (an ``mtx`` subprocess) or
``collector.registry.register_platform(PLATFORM)`` (in-process). Its collector serves no issues and no pull requests,
and fails the repository if it is ever asked for them, so a passing run shows the job honours ``Platform.streams``.
Its data is fixed (``COMMITS`` ...) so tests compare stored rows with values written here, not computed by the job.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from collector.base import CollectorSettings, PlatformCollector, RepositoryCollector, Step
from collector.bookmarks import Bookmark
from collector.http import HttpSettings, RequestStats
from collector.platforms import Platform
from collector.records import Commit, Contributor, Release, RepoSnapshot

UTC = dt.timezone.utc
STREAMS = ("repo", "commits", "releases", "contributors")  # no issues, no pulls
TOKEN_VAR = "TESTFORGE_TOKEN"

COMMITS = {
    "acme/widget": [
        Commit(sha=f"{n:040x}", author_name=name, author_email=email, author_login=login,
               author_time=dt.datetime(2026, 5, n, 8, tzinfo=UTC), committer_name=name, committer_email=email,
               committer_login=login, committer_time=dt.datetime(2026, 5, n, 9, tzinfo=UTC), is_merge=False,
               is_bot=False, message_title=f"widget change {n}")
        for n, (name, email, login) in enumerate([("Li Lei", "lilei@forge.example", "lilei"),
                                                  ("Han Meimei", "hanmm@forge.example", "hanmm"),
                                                  ("Li Lei", "lilei@forge.example", "lilei")], start=1)],
}
RELEASES = {"acme/widget": [Release(tag="v1.0", name="1.0", published_at=dt.datetime(2026, 5, 3, tzinfo=UTC),
                                    prerelease=False, draft=False)]}
CONTRIBUTORS = {"acme/widget": [Contributor(login="lilei", name="Li Lei", email=None, contributions=2),
                                Contributor(login="hanmm", name="Han Meimei", email=None, contributions=1)]}
asked: list[tuple[str, str]] = []  # (path, stream) of every fetch, for in-process tests


class ForgeRepository(RepositoryCollector):
    def __init__(self, platform: "ForgeCollector", path: str) -> None:
        self.platform, self.path, self.settings = PLATFORM.name, path, platform.settings
        self.clock = platform.http.clock

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), UTC)

    def _repo_steps(self, start: Bookmark, stats: RequestStats) -> Iterator[Step]:
        asked.append((self.path, "repo"))
        stats.requests += 1
        yield [RepoSnapshot(platform=PLATFORM.name, path=self.path, state="active", default_branch="main",
                            licence="MulanPSL-2.0", stars=7, forks=1, created_at=dt.datetime(2026, 1, 1, tzinfo=UTC),
                            web_url=f"https://testforge.example/{self.path}")], start, True

    def _list_steps(self, stream: str, start: Bookmark, stats: RequestStats) -> Iterator[Step]:
        asked.append((self.path, stream))
        if stream not in STREAMS:
            raise AssertionError(f"TestForge was asked for {stream}, which it does not declare")
        stats.requests += 1
        data = {"commits": COMMITS, "releases": RELEASES, "contributors": CONTRIBUTORS}[stream]
        yield list(data.get(self.path, [])), start.evolve(cursor="done"), True


class ForgeCollector(PlatformCollector):
    name = "testforge"

    def __init__(self, *, tokens=(), base_url: str | None = None, http: HttpSettings = HttpSettings(),
                 settings: CollectorSettings = CollectorSettings(), **_: object) -> None:
        self.tokens, self.base_url, self.http, self.settings = list(tokens), base_url, http, settings

    def repository(self, path: str) -> ForgeRepository:
        return ForgeRepository(self, path)


PLATFORM = Platform(
    name="testforge",
    label_zh="测试锻炉",
    label_en="TestForge",
    default_api_url="https://api.testforge.example/v1",
    token_env=(TOKEN_VAR,),
    credential_hosts=("https://api.testforge.example:443",),
    web_hosts=("testforge.example",),
    streams=STREAMS,
    collector=ForgeCollector,
    noreply_forms=(r"^(?P<login>[^@\s]+)@noreply\.testforge\.example$",),
    noreply_domains=("noreply.testforge.example",),
)
