"""Fixtures for people resolution: the real-world shapes of an OpenHarmony repository, stored as collection stores them."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

import collector.records as rec
from tracker import db as dbm
from tracker.collect import store
from tracker.models import Community, CommunityRepository, Repository

UTC = dt.timezone.utc

IDENTITIES = {
    "bots": {"patterns": ["^openharmony_ci$", r"\[bot\]$"], "emails": [], "logins": []},
    "people": [{"name": "张三", "emails": ["zhangsan@huawei.com"],
                "affiliations": [{"organisation": "华为技术有限公司", "end": "2024-03-01"},
                                 {"organisation": "Kaihong", "start": "2024-03-01"}]}],
    "anonymous_emails": ["*@build.internal"],
}
ORGANISATIONS = {
    "free_mail_domains": ["qq.com", "163.com"],
    "organisations": [
        {"name": "华为技术有限公司", "domains": ["huawei.com"]},
        {"name": "深开鸿", "aliases": ["Kaihong"], "domains": ["kaihong.com", "kaihongdigi.com"]},
        {"name": "重庆大学", "kind": "university", "chongqing_local": True, "domains": ["cqu.edu.cn"]},
    ],
}

# (sha-suffix, author name, author e-mail, linked login, author time, collector's bot flag)
GITCODE_COMMITS = [
    ("01", "openharmony_ci", "120357966@qq.com", "openharmony_ci", "2024-01-02T08:00:00", False),
    ("02", "openharmony_ci", "openharmony_ci@noreply.gitcode.com", None, "2024-01-03T08:00:00", False),
    ("03", "chen yi wen", "cyw@kaihong.com", "chenyiwen", "2024-01-04T08:00:00", False),
    ("04", "temptest_01", "cyw@kaihong.com", None, "2024-01-05T08:00:00", False),
    ("05", "张三", "zhangsan@huawei.com", "zhangsan", "2024-02-29T15:59:59", False),  # 23:59:59 in Beijing
    ("06", "张三", "zhangsan@huawei.com", "zhangsan", "2024-02-29T16:00:00", False),  # 2024-03-01 00:00 in Beijing
    ("07", "李四", "lisi@h-partners.com", None, "2024-01-06T08:00:00", False),
    ("08", "王五", "wangwu@kaihongdigi.com", "wangwu", "2024-01-07T08:00:00", False),
    ("09", "student", "stu@mail.ustc.edu.cn", None, "2024-01-08T08:00:00", False),
    ("10", "李老师", "li@mail.cqu.edu.cn", None, "2024-01-09T08:00:00", False),
    ("11", "builder", "root@localhost", None, "2024-01-10T08:00:00", False),
    ("13", "another builder", "root@localhost", None, "2024-01-10T09:00:00", False),
    ("12", "a8f3 prefix", "a8f3.wangwu@noreply.gitcode.com", None, "2024-01-11T08:00:00", False),
]
GITEE_COMMITS = [
    ("21", "赵六", "zhaoliu@163.com", "zhaoliu", "2024-01-12T08:00:00", False),
    ("22", "赵六", "778899+zhaoliu@user.noreply.gitee.com", None, "2024-01-13T08:00:00", False),
    ("23", "renovate[bot]", "bot@renovate.example.org", "renovate-bot", "2024-01-14T08:00:00", True),
]
# people a human would count (bots and the anonymous builder apart): zhangsan, chenyiwen, lisi, wangwu, student,
# li, zhaoliu — plus two anonymous builders (one address, two names: one contributor per address and name)
EXPECTED_HUMANS = 9


def write_config(directory: Path, identities: dict | None = None, organisations: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "communities.yaml").write_text(yaml.safe_dump({"communities": [
        {"slug": "oh", "name": "开源鸿蒙（测试）", "repositories": []}]}, allow_unicode=True), encoding="utf-8")
    (directory / "identities.yaml").write_text(yaml.safe_dump(identities or IDENTITIES, allow_unicode=True),
                                               encoding="utf-8")
    (directory / "organisations.yaml").write_text(yaml.safe_dump(organisations or ORGANISATIONS, allow_unicode=True),
                                                  encoding="utf-8")
    return directory


def commit(sha: str, name: str, email: str, login: str | None, when: str, bot: bool) -> rec.Commit:
    time = dt.datetime.fromisoformat(when).replace(tzinfo=UTC)
    return rec.Commit(sha=sha.rjust(40, "0"), author_name=name, author_email=email, author_login=login,
                      author_time=time, committer_name=name, committer_email=email, committer_login=login,
                      committer_time=time, is_merge=False, is_bot=bot, message_title="change")


def store_world(url: str, order: int = 1) -> None:
    """The two repositories of community 'oh', stored page by page as collection does (order=-1 reverses)."""
    with dbm.session_scope(url) as s:
        community = Community(slug="oh", name_zh="开源鸿蒙（测试）", focus="other")
        s.add(community)
        repos = {}
        for platform, path in (("gitcode", "openharmony/arkui"), ("gitee", "openharmony/arkui")):
            repos[platform] = Repository(platform=platform, api_url=f"https://{platform}.test", path=path)
            s.add(repos[platform])
        s.flush()
        for repo in repos.values():
            s.add(CommunityRepository(community_id=community.id, repository_id=repo.id))
        pages = [(repos["gitcode"], [commit(*c) for c in GITCODE_COMMITS]),
                 (repos["gitee"], [commit(*c) for c in GITEE_COMMITS])][::order]
        for repo, commits in pages:
            for c in commits[::order]:
                store.store_commits(s, repo, [c])


@pytest.fixture
def world_url(db_url):
    store_world(db_url)
    return db_url


@pytest.fixture
def people_config(tmp_path) -> Path:
    return write_config(tmp_path / "config")
