"""Whole-organisation entries: each platform lists what an organisation or group holds now, filtered alike."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from collector import ApiError, RepoListing
from collector.discovery import select
from tests.collector.platforms import SUBGROUP, clock, emulator, make_platform, world  # noqa: F401
from tests.emulator import generate_repo

PLATFORMS = ["github", "gitee", "gitcode", "gitlab"]


def paths(listings):
    return [listing.path for listing in listings]


def add_org(world):
    for seed, (name, extra) in enumerate((("core", {}), ("docs", {}), ("tools-old", {"archived": True}),
                                          ("fork-of-x", {"fork": True}), ("core-tests", {}))):
        generate_repo(world, f"easyxmen/{name}", commits=3, seed=seed, **extra)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_organisation_lists_repositories_with_filters(platform, make_platform, world):
    add_org(world)
    collector = make_platform(platform)
    assert paths(collector.list_repositories("easyxmen")) == ["easyxmen/core", "easyxmen/core-tests", "easyxmen/docs"]
    everything = collector.list_repositories("easyxmen", archived=True, forks=True)
    assert len(everything) == 5
    assert {l.path: (l.archived, l.is_fork) for l in everything}["easyxmen/tools-old"] == (True, False)
    assert {l.path: l.is_fork for l in everything}["easyxmen/fork-of-x"] is True
    include = ["easyxmen/core*"] if platform == "gitlab" else ["core*"]
    assert paths(collector.list_repositories("easyxmen", include=include, exclude=["*-tests"])) == ["easyxmen/core"]
    assert all(l.web_url and l.web_url.endswith(l.path) and l.default_branch == "main" for l in everything)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_repository_list_changes_between_runs(platform, make_platform, world):
    add_org(world)
    collector = make_platform(platform)
    before = set(paths(collector.list_repositories("easyxmen")))
    world.delete_repo(world.repo_by_name("easyxmen/docs"))
    generate_repo(world, "easyxmen/new-sdk", commits=2, start=datetime(2024, 1, 1, tzinfo=timezone.utc))
    after = set(paths(collector.list_repositories("easyxmen")))
    assert after - before == {"easyxmen/new-sdk"} and before - after == {"easyxmen/docs"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_user_namespace_falls_back_to_user_repositories(platform, make_platform, world):
    world.add_account("solo-dev", type="User")
    generate_repo(world, "solo-dev/tool", commits=2, seed=9)
    assert paths(make_platform(platform).list_repositories("solo-dev")) == ["solo-dev/tool"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_unknown_organisation_is_a_404_error(platform, make_platform):
    with pytest.raises(ApiError) as caught:
        make_platform(platform).list_repositories("no-such-org")
    assert caught.value.status == 404


def test_gitlab_group_includes_subgroups_and_globs_match_the_full_path(make_platform, world):
    generate_repo(world, "group/top-level", commits=2, seed=3, only_on=("gitlab",))
    gitlab = make_platform("gitlab")
    assert paths(gitlab.list_repositories("group")) == ["group/sub/deep/project", "group/top-level"]
    assert paths(gitlab.list_repositories("group/sub")) == [SUBGROUP]
    assert paths(gitlab.list_repositories("group", include=["group/sub/**"])) == [SUBGROUP]
    assert paths(make_platform("gitee").list_repositories("acme")) == ["acme/big", "acme/empty"]


def test_select_is_case_insensitive_and_sorted():
    rows = [RepoListing("o/Zeta", None, False, False, "main"), RepoListing("o/alpha", None, False, False, "main")]
    assert paths(select(rows, include=["ZETA", "Alp*"])) == ["o/alpha", "o/Zeta"]
    assert paths(select(rows, exclude=["z*"])) == ["o/alpha"]
