"""Loopback emulator of code-hosting APIs for tests: GitHub v3, Gitee v5, GitCode v5 and GitLab v4 on one port.

Typical use::

    with running_emulator() as emu:
        repo = generate_repo(emu.world, "org/big", commits=1200)
        emu.add_token("t0k3n")
        Github(auth=Auth.Token("t0k3n"), base_url=emu.url)
        httpx.get(emu.url + "/api/v5/repos/org/big", params={"access_token": "t0k3n"})      # Gitee
        httpx.get(emu.url + "/gitcode/api/v5/repos/org/big", headers={"PRIVATE-TOKEN": "t0k3n"})  # GitCode
        gitlab.Gitlab(emu.url, private_token="t0k3n").projects.get("org/big")                # GitLab /api/v4

Every platform reads the same :class:`World`, so a mirror (the same repository on several platforms) has the
same commits and shas everywhere; ``Repo.only_on`` keeps a repository to some platforms (not honoured by GitHub).
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

from tests.emulator.clock import FakeClock
from tests.emulator.gitee import GITCODE, GITEE, GiteePlatform
from tests.emulator.github import GitHubPlatform
from tests.emulator.gitlab import GitLabPlatform
from tests.emulator.model import Account, Comment, GitCommit, Issue, Person, Release, Repo, World, generate_repo
from tests.emulator.server import Emulator, Fault, LoggedRequest, Reply, Request


@contextlib.contextmanager
def running_emulator(world: World | None = None, *, clock: Callable[[], float] = time.time,
                     rate_limit_status: int = 403, gitee_etags: bool = False) -> Iterator[Emulator]:
    """Start an emulator on a free loopback port with GitHub (``/`` and ``/api/v3``), Gitee (``/api/v5``),
    GitCode (``/gitcode/api/v5``) and GitLab (``/api/v4``) mounted; stop it after. ``gitee_etags`` makes the
    Gitee-style flavours send ETags (whether the real ones do is unverified)."""
    emulator = Emulator(world, clock=clock)
    emulator.mount(GitHubPlatform(rate_limit_status=rate_limit_status))
    emulator.mount(GiteePlatform(GITEE, etags=gitee_etags))
    emulator.mount(GiteePlatform(GITCODE, etags=gitee_etags))
    emulator.mount(GitLabPlatform())
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


__all__ = ["Account", "Comment", "Emulator", "FakeClock", "Fault", "GITCODE", "GITEE", "GitCommit",
           "GitHubPlatform", "GitLabPlatform", "GiteePlatform", "Issue",
           "LoggedRequest", "Person", "Release", "Reply", "Repo", "Request", "World", "generate_repo",
           "running_emulator"]
