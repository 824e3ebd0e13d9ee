"""The catalogue of signal names a model may use, and what each one means.

Why: models name signals; the metrics code (next issue) must compute exactly those names from
collected data, and ``mtx config check`` must flag a model that names a signal nobody computes.
Names follow criticality_score where it has one (so its presets run unchanged). Signals that
a review panel rates, not the collector, start with ``expert_`` and are always accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

EXPERT_PREFIX = "expert_"


@dataclass(frozen=True)
class KnownSignal:
    name: str
    label_zh: str
    description: str
    unit: str


_CATALOGUE = [
    # criticality_score's own signals (also used by OSS Compass)
    KnownSignal("created_since", "项目存续时间", "Months since the project was created.", "months"),
    KnownSignal("updated_since", "距最近更新", "Months since the last commit (smaller is better).", "months"),
    KnownSignal("contributor_count", "贡献者数", "Distinct people with commits (deduplicated identities).", "people"),
    KnownSignal("org_count", "贡献组织数", "Distinct organisations the contributors belong to.", "organisations"),
    KnownSignal("commit_frequency", "提交频率", "Average commits per week over the window.", "commits/week"),
    KnownSignal("recent_releases_count", "近期发布数", "Releases in the last year.", "releases"),
    KnownSignal("closed_issues_count", "已关闭议题数", "Issues closed in the last 90 days.", "issues"),
    KnownSignal("updated_issues_count", "更新议题数", "Issues updated in the last 90 days.", "issues"),
    KnownSignal("comment_frequency", "议题评论频率", "Average comments per issue in the last 90 days.", "comments/issue"),
    KnownSignal("dependents_count", "依赖者/提及数", "Dependents, or mentions in commit messages (Go scorer).", "projects"),
    # OSS Compass extras
    KnownSignal("code_review_count", "代码评审数", "Average review comments per pull request in the window.", "comments/PR"),
    KnownSignal("issue_first_response_days", "议题首次响应时间", "Median days from an issue being opened to its first reply by someone else.", "days"),
    KnownSignal("pr_merge_days", "合并请求处理时间", "Median days from a pull request being opened to being merged.", "days"),
    KnownSignal("closed_prs_count", "已关闭合并请求数", "Pull requests merged or closed in the window.", "pull requests"),
    # organisational diversity and adoption
    KnownSignal("top_org_commit_share", "最大组织提交占比", "Share of commits from the single largest organisation, 0..1 (smaller is better).", "share"),
    KnownSignal("star_count", "星标数", "Stars (GitHub) or equivalent (Gitee/GitCode/AtomGit).", "stars"),
    KnownSignal("fork_count", "分叉数", "Forks across the platforms collected.", "forks"),
    # Chongqing-local contribution
    KnownSignal("chongqing_contributor_count", "重庆本地贡献者数", "Contributors whose affiliation or location is in Chongqing.", "people"),
    KnownSignal("chongqing_commit_share", "重庆本地提交占比", "Share of commits by Chongqing-local contributors, 0..1.", "share"),
]

KNOWN_SIGNALS: dict[str, KnownSignal] = {signal.name: signal for signal in _CATALOGUE}


def known_signals() -> dict[str, KnownSignal]:
    """All collector-computed signal names with their meaning (expert signals are open-ended)."""
    return dict(KNOWN_SIGNALS)


def is_known_signal(name: str) -> bool:
    """True for a catalogued name or any ``expert_*`` name."""
    return name in KNOWN_SIGNALS or (name.startswith(EXPERT_PREFIX) and len(name) > len(EXPERT_PREFIX))
