"""Loopback emulator of code-hosting APIs for tests (GitHub v3 now; Gitee, GitCode and GitLab mount the same way).

Typical use::

    with running_emulator() as emu:
        repo = generate_repo(emu.world, "org/big", commits=1200)
        emu.add_token("t0k3n")
        Github(auth=Auth.Token("t0k3n"), base_url=emu.url)
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

from tests.emulator.clock import FakeClock
from tests.emulator.github import GitHubPlatform
from tests.emulator.model import Account, Comment, GitCommit, Issue, Person, Release, Repo, World, generate_repo
from tests.emulator.server import Emulator, Fault, LoggedRequest, Reply, Request


@contextlib.contextmanager
def running_emulator(world: World | None = None, *, clock: Callable[[], float] = time.time,
                     rate_limit_status: int = 403) -> Iterator[Emulator]:
    """Start an emulator with GitHub mounted (``/`` and ``/api/v3``) on a free loopback port; stop it after."""
    emulator = Emulator(world, clock=clock)
    emulator.mount(GitHubPlatform(rate_limit_status=rate_limit_status))
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


__all__ = ["Account", "Comment", "Emulator", "FakeClock", "Fault", "GitCommit", "GitHubPlatform", "Issue",
           "LoggedRequest", "Person", "Release", "Reply", "Repo", "Request", "World", "generate_repo",
           "running_emulator"]
