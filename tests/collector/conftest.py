"""Fixtures for collector tests: a world with the repositories the issue names, a fake clock shared by the
emulator and the collector (rate-limit resets cost no real time), and a GitHub collector factory."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from collector import CollectorSettings, HttpSettings, open_platform
from tests.emulator import FakeClock, World, generate_repo, running_emulator

NOW = datetime(2024, 3, 1, tzinfo=timezone.utc)
TOKENS = [("MTX_TEST_GH_TOKEN_A", "ghp_SECRETaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"),
          ("MTX_TEST_GH_TOKEN_B", "ghp_SECRETbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2")]
REPOS = ("acme/big", "acme/empty", "acme/old-name", "acme/unlinked", "acme/deleted")


def build_world() -> World:
    world = World()
    generate_repo(world, "acme/big", commits=1234, seed=1, unlinked_every=7, merge_every=10, bot_every=13,
                  issues=40, pulls=25, releases=6)
    world.add_repo("acme/empty", created_at=datetime(2023, 1, 1, tzinfo=timezone.utc), licence="MIT")
    moved = generate_repo(world, "acme/old-name", commits=120, seed=2, issues=4, pulls=3, releases=2)
    world.rename_repo(moved, "newacme/new-name")
    generate_repo(world, "acme/unlinked", commits=60, seed=3, unlinked_every=2, issues=3, pulls=2)
    gone = generate_repo(world, "acme/deleted", commits=3, seed=4)
    world.delete_repo(gone)
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
        for _, value in TOKENS:
            emu.add_token(value)
        yield emu


@pytest.fixture
def make_github(emulator, clock):
    """``make_github(tokens=..., **http_overrides)`` -> a GitHubCollector pointed at the emulator."""
    made = []

    def make(tokens=TOKENS, *, prefix: str = "", settings: CollectorSettings = CollectorSettings(), **http):
        options = dict(sleep=clock.sleep, clock=clock.now, timeout=5.0, jitter=lambda: 0.5)
        options.update(http)
        github = open_platform("github", tokens=list(tokens), base_url=emulator.url + prefix,
                               http=HttpSettings(**options), settings=settings)
        made.append(github)
        return github

    yield make
    for github in made:
        github.close()
