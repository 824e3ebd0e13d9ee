"""One small function per signal. Each gets the shared facts and its window and returns {scope: value}.

None from a function means "nothing to measure" (a median or a share over no items); the other reasons a value is
missing (not collected, not provided, no source) are decided in tracker/metrics/compute.py from the streams each
signal names. Names follow criticality_score and OSS Compass where they have one.
"""
from __future__ import annotations

import datetime as dt
import statistics

from tracker.metrics.facts import Facts
from tracker.metrics.registry import signal

DAYS_PER_MONTH = 30.44
DAY = 86400.0


def _months(delta: dt.timedelta) -> float:
    return delta.total_seconds() / DAY / DAYS_PER_MONTH


def _median_days(seconds: list[float]) -> float | None:
    return statistics.median(seconds) / DAY if seconds else None


@signal("created_since", "项目存续时间", "age", "months", None, ("repo",))
def created_since(f: Facts, window) -> dict:
    """Months (days / 30.44) from the earliest repository creation date to the end of as-of."""
    snapshots = f.snapshots()
    out = {}
    for scope, repos in f.members.items():
        created = [snapshots[r][2] for r in repos if r in snapshots and snapshots[r][2] is not None
                   and snapshots[r][2] < f.end]
        out[scope] = _months(f.end - min(created)) if created else None
    return out


@signal("updated_since", "距最近更新", "months since the last commit", "months", None, ("commits",),
        smaller_is_better=True)
def updated_since(f: Facts, window) -> dict:
    """Months from the latest commit (author time, bots and merges left out) at or before as-of to its end."""
    last = f.last_commit()
    return {scope: (_months(f.end - last[scope]) if scope in last else None) for scope in f.members}


@signal("contributor_count", "贡献者数", "contributors", "people", 365, ("commits",))
def contributor_count(f: Facts, window) -> dict:
    """Distinct people (as resolved) authoring at least one commit in the window."""
    return {scope: len(c.people) for scope, c in f.commits(window).items()}


@signal("commit_frequency", "提交频率", "commits per week", "commits/week", 365, ("commits",))
def commit_frequency(f: Facts, window) -> dict:
    """Commits in the window / (window days / 7); a sha in several repositories of a community counts once."""
    commits = f.commits(window)
    if window == "all":
        return {scope: None for scope in commits}  # a rate needs a length
    return {scope: c.commits / (int(window) / 7) for scope, c in commits.items()}


@signal("recent_releases_count", "近期发布数", "releases", "releases", 365, ("releases",))
def recent_releases_count(f: Facts, window) -> dict:
    """Releases published in the window, prereleases included (a tag in several repositories once); for git-only
    repositories, their tags."""
    return {scope: len(tags) for scope, tags in f.releases(window).items()}


@signal("closed_issues_count", "已关闭议题数", "issues closed", "issues", 90, ("issues",))
def closed_issues_count(f: Facts, window) -> dict:
    """Issues closed in the window (pull requests never count as issues)."""
    return {scope: c[0] for scope, c in f.issue_counts(window).items()}


@signal("updated_issues_count", "更新议题数", "issues updated", "issues", 90, ("issues",))
def updated_issues_count(f: Facts, window) -> dict:
    """Issues whose last update falls in the window."""
    return {scope: c[1] for scope, c in f.issue_counts(window).items()}


@signal("comment_frequency", "议题评论频率", "comments per issue", "comments/issue", 90, ("issues",))
def comment_frequency(f: Facts, window) -> dict:
    """Mean comments per issue over the issues updated in the window (issues whose count the platform gave)."""
    return {scope: (c[2] / c[3] if c[3] else None) for scope, c in f.issue_counts(window).items()}


@signal("issue_first_response_days", "议题首次响应时间", "days to first response", "days", 90, ("issues",),
        smaller_is_better=True)
def issue_first_response_days(f: Facts, window) -> dict:
    """Median, over issues opened in the window, of days from opening to the first reply by someone else; an issue
    unanswered at the end of as-of counts with its age then."""
    return {scope: _median_days(waits) for scope, waits in f.issues_opened(window).items()}


@signal("pr_merge_days", "合并请求处理时间", "days to merge", "days", 90, ("pulls",), smaller_is_better=True)
def pr_merge_days(f: Facts, window) -> dict:
    """Median, over pull requests merged in the window, of days from opening to merging."""
    return {scope: _median_days(waits) for scope, waits in f.pulls_merged(window).items()}


@signal("closed_prs_count", "已关闭合并请求数", "pull requests closed", "pull requests", 90, ("pulls",))
def closed_prs_count(f: Facts, window) -> dict:
    """Pull requests merged or closed in the window."""
    return f.pulls_closed(window)


@signal("code_review_count", "代码评审数", "review comments per pull request", "comments/PR", 90, ("pulls",),
        unavailable="not provided")
def code_review_count(f: Facts, window) -> dict:
    """Review comments per pull request: review comments are not collected yet, so always unavailable."""
    return {}


@signal("org_count", "贡献组织数", "organisations", "organisations", 365, ("commits",))
def org_count(f: Facts, window) -> dict:
    """Distinct organisations of the commit authors in the window (affiliation on the commit date); individuals are
    none."""
    return {scope: sum(1 for org, n in c.by_org.items() if org and n) for scope, c in f.commits(window).items()}


@signal("top_org_commit_share", "最大组织提交占比", "largest organisation's share of commits", "share", 365,
        ("commits",), smaller_is_better=True)
def top_org_commit_share(f: Facts, window) -> dict:
    """The largest organisation's commits / all commits in the window (individuals stay in the denominator)."""
    return {scope: (max([n for org, n in c.by_org.items() if org] or [0]) / c.commits if c.commits else None)
            for scope, c in f.commits(window).items()}


@signal("star_count", "星标数", "stars", "stars", None, ("repo",))
def star_count(f: Facts, window) -> dict:
    """Stars summed over the repositories (all platforms), from each one's latest snapshot at or before as-of."""
    return _snapshot_sum(f, 0)


@signal("fork_count", "分叉数", "forks", "forks", None, ("repo",))
def fork_count(f: Facts, window) -> dict:
    """Forks summed over the repositories, from each one's latest snapshot at or before as-of."""
    return _snapshot_sum(f, 1)


def _snapshot_sum(f: Facts, index: int) -> dict:
    snapshots = f.snapshots()
    return {scope: sum(snapshots[r][index] or 0 for r in repos if r in snapshots) for scope, repos in f.members.items()}


@signal("chongqing_contributor_count", "重庆本地贡献者数", "Chongqing contributors", "people", 365, ("commits",))
def chongqing_contributor_count(f: Facts, window) -> dict:
    """Distinct commit authors in the window affiliated, on the commit date, with a chongqing_local organisation."""
    return {scope: len(c.chongqing_people) for scope, c in f.commits(window).items()}


@signal("chongqing_commit_share", "重庆本地提交占比", "Chongqing share of commits", "share", 365, ("commits",))
def chongqing_commit_share(f: Facts, window) -> dict:
    """Commits by authors affiliated (on the commit date) with a chongqing_local organisation / all commits."""
    return {scope: (c.chongqing_commits / c.commits if c.commits else None) for scope, c in f.commits(window).items()}


@signal("dependents_count", "依赖者数", "dependents", "projects", None, (), unavailable="no source")
def dependents_count(f: Facts, window) -> dict:
    """Projects depending on the community's code: no source is collected, so always unavailable."""
    return {}
