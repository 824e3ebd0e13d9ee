"""Fixtures for the emulator's own tests: a fake clock, a small world, and a running emulator."""

from __future__ import annotations

import pytest

from tests.emulator import FakeClock, World, generate_repo, running_emulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def world() -> World:
    world = World()
    generate_repo(world, "acme/rocket", commits=250, seed=3, unlinked_every=4, merge_every=10, bot_every=9,
                  issues=12, pulls=8, releases=4)
    world.add_repo("acme/empty", created_at=world.repo_by_name("acme/rocket").created_at)
    moved = generate_repo(world, "acme/old-name", commits=5, seed=4)
    world.rename_repo(moved, "newacme/new-name")
    gone = generate_repo(world, "acme/deleted", commits=2, seed=5)
    world.delete_repo(gone)
    return world


@pytest.fixture
def emulator(world, clock):
    with running_emulator(world, clock=clock.now) as emu:
        emu.add_token("emu-token-one", limit=50)
        emu.add_token("emu-token-two", limit=5000)
        yield emu
