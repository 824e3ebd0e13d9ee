"""Fixtures for the Gitee, GitCode and GitLab collector tests (imported by name into each test module).

One world serves every platform (the emulator mounts them all on one port), so a mirror has the same shas
everywhere. The clock is fake and shared with the collectors, as for GitHub.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from collector import CollectorSettings, HttpSettings, open_platform
from tests.collector.conftest import NOW
from tests.collector.conftest import TOKENS as GITHUB_TOKENS
from tests.emulator import FakeClock, Person, World, generate_repo, running_emulator

PREFIX = {"github": "", "gitee": "/api/v5", "gitcode": "/gitcode/api/v5", "gitlab": "/api/v4"}
TOKENS = {"github": GITHUB_TOKENS,
          "gitee": [("MTX_TEST_GITEE_TOKEN", "gitee_SECRETaaaaaaaaaaaaaaaaaaaaaaaa1"),
                    ("MTX_TEST_GITEE_TOKEN_2", "gitee_SECRETbbbbbbbbbbbbbbbbbbbbbbbb2")],
          "gitcode": [("MTX_TEST_GITCODE_TOKEN", "gitcode_SECRETcccccccccccccccccccc3")],
          "gitlab": [("MTX_TEST_GITLAB_TOKEN", "glpat-SECRETdddddddddddddddddddd4")]}
SUBGROUP = "group/sub/deep/project"
MIRROR = "openharmony/docs"
NAMELESS = "nameless@unlinked.example.net"


def build_world() -> World:
    world = World()
    big = generate_repo(world, "acme/big", commits=1234, seed=1, unlinked_every=7, merge_every=10, bot_every=13,
                        issues=40, pulls=25, releases=6)
    big.commits[5].author = Person("", NAMELESS)  # GitCode omits an empty author name
    world.add_repo("acme/empty", created_at=datetime(2023, 1, 1, tzinfo=timezone.utc), licence="MIT")
    moved = generate_repo(world, "acme/old-name", commits=120, seed=2, issues=4, pulls=3, releases=2)
    world.rename_repo(moved, "newacme/new-name")
    gone = generate_repo(world, "acme/deleted", commits=3, seed=4)
    world.delete_repo(gone)
    generate_repo(world, MIRROR, commits=300, seed=7, issues=10, pulls=10, releases=3, merge_every=6,
                  start=datetime(2023, 9, 1, tzinfo=timezone.utc), step=timedelta(hours=1))
    generate_repo(world, SUBGROUP, commits=150, seed=8, issues=6, pulls=5, releases=2, only_on=("gitlab",))
    return world


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW.timestamp())


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def emulator(world, clock):
    with running_emulator(world, clock=clock.now) as emu:
        for tokens in TOKENS.values():
            for _, value in tokens:
                emu.add_token(value)
        yield emu


@pytest.fixture
def make_platform(emulator, clock):
    """``make_platform(name, tokens=..., settings=..., **http_overrides)`` -> a collector at the emulator."""
    made = []

    def make(name: str, tokens=None, *, settings: CollectorSettings = CollectorSettings(), **http):
        options = dict(sleep=clock.sleep, clock=clock.now, timeout=5.0, jitter=lambda: 0.5)
        options.update(http)
        platform = open_platform(name, tokens=list(TOKENS[name] if tokens is None else tokens),
                                 base_url=emulator.url + PREFIX[name], http=HttpSettings(**options),
                                 settings=settings)
        made.append(platform)
        return platform

    yield make
    for platform in made:
        platform.close()
