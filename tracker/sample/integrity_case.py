"""The demo's integrity case: one community whose numbers were pushed up just before the as-of date.

The evaluation rounds' integrity flags (tracker/rounds/integrity.py) need something to find in the demo. This
community has a few long-standing contributors committing a handful of times a month for two years, then, in its
last BURST_DAYS days, hundreds of commits by people who had never committed to it before, and its stars multiplied in
the last month. With a round cut off at the as-of date it trips all three flags, by wide margins (with the default
thresholds: a weekly rate about 5× the 12-month average, above 3×; over 80 % of the year's commits by newcomers,
above 30 %; stars about 10× in 30 days, above 5×).

Only the scale-1 demo has it, built after every other community and repository, from random streams of its own
(``(seed, "integrity")`` for its people, ``(seed, "repo:<id>")`` for each repository as everywhere), with ids after
all the others': the other communities' rows are the same as without it. Its contributors are people of the sample
who never committed here before (using their usual address), so it adds no person.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from tracker.formatting import beijing_day_end
from tracker.models import Community, RepositorySnapshot

SLUG = "chaotianmen-widgets"
NAME_ZH = "朝天门鸿蒙组件库（示例）"
FOCUS = "smart-terminal"
APPLICANT = 2          # index into names.ORGANISATIONS: 两江芯联电子有限公司（虚构）
CORE_PEOPLE = 5        # long-standing contributors
NEWCOMERS = 24         # people whose first commit here is in the burst
BURST_DAYS = 45        # the burst: the last 45 Beijing days up to as-of (inside 60 and 90)


@dataclass(frozen=True)
class BurstPlan:
    """One repository of the case: core commits per month (a range), burst commits, stars before the jump."""

    core_per_month: tuple[int, int]
    burst_commits: int
    stars_before: tuple[int, int]
    jump: tuple[float, float]  # stars in the last snapshot = stars the month before x uniform(jump)


REPOSITORIES = [("gitee", "core", "Apache-2.0", BurstPlan((3, 5), 280, (15, 30), (8.0, 14.0))),
                ("github", "widgets", "MulanPSL-2.0", BurstPlan((1, 3), 150, (8, 20), (8.0, 14.0)))]


def add_community(world) -> None:
    """The community and its repositories, after all the others (ids follow theirs)."""
    from tracker.sample.build import _RepoInfo

    rng = random.Random(f"{world.seed}:integrity")
    chosen = rng.sample(range(1, len(world.people)), CORE_PEOPLE + NEWCOMERS)  # not person 0 (several addresses)
    cid = world.ids("communities")
    applicant = world.org_defs[APPLICANT][0]
    community = {"id": cid, "slug": SLUG, "shape": "burst", "pool": chosen, "weight": 0.5, "response_hours": 30.0,
                 "applicant": APPLICANT, "core": chosen[:CORE_PEOPLE], "newcomers": chosen[CORE_PEOPLE:]}
    world.communities.append(community)
    world.w.add(Community, {"id": cid, "slug": SLUG, "name_zh": NAME_ZH, "name_en": SLUG.replace("-", " ").title(),
                            "focus": FOCUS, "applicant": applicant, "homepage": f"https://{SLUG}.example.org",
                            "description": f"{NAME_ZH}：满天星示例数据，虚构社区，仅用于演示评审诚信提示"
                                           "（截止前提交量突增、新人提交为主、星标数突增）。",
                            "created_at": world.as_of_dt})
    for platform, word, licence, plan in REPOSITORIES:
        rid = world.ids("repositories")
        path = f"{SLUG}-example/{word}"
        world.repos.append(_RepoInfo(rid, len(world.communities) - 1, platform, path, "active", 0.5, burst=plan))
        world._repository_rows(community, rid, platform, path, licence)


def commits(world, rng: random.Random, repo, community: dict) -> list[dict]:
    """A few core commits every month, then the burst by newcomers in the last BURST_DAYS days."""
    plan: BurstPlan = repo.burst
    rows = []
    for m, first in enumerate(world.months):
        start = dt.datetime.combine(first, dt.time(), dt.timezone.utc)
        end = dt.datetime.combine(world.months[m + 1], dt.time(), dt.timezone.utc) if m + 1 < len(world.months) \
            else world.as_of_dt
        span = max(1, int((min(end, world.as_of_dt) - start).total_seconds()) - 1)
        for _ in range(rng.randint(*plan.core_per_month)):
            person = world.people[rng.choice(community["core"])]
            rows.append(world._commit_row(rng, repo, person, start + dt.timedelta(seconds=rng.randrange(span)), False))
    start = beijing_day_end(world.as_of - dt.timedelta(days=BURST_DAYS))  # the first burst day begins
    span = int((world.as_of_dt - start).total_seconds()) - 1
    newcomers = community["newcomers"]
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(newcomers))]
    for _ in range(plan.burst_commits):
        person = world.people[rng.choices(newcomers, weights)[0]]
        rows.append(world._commit_row(rng, repo, person, start + dt.timedelta(seconds=rng.randrange(span)), False))
    rows.sort(key=lambda c: c["author_time"])
    return rows


def snapshots(world, rng: random.Random, repo, open_issues: int) -> None:
    """Month-end snapshots: slow growth to the month before as-of, then the jump in the last one."""
    plan: BurstPlan = repo.burst
    before = rng.randrange(*plan.stars_before)
    last = len(world.months) - 1
    created = (dt.datetime.combine(world.months[0], dt.time(), dt.timezone.utc)
               - dt.timedelta(days=rng.randrange(30, 400)))
    for m in range(len(world.months)):
        month_end = world.months[m + 1] - dt.timedelta(days=1) if m < last else world.as_of
        stars = int(before * (m + 1) / last) if m < last else int(before * rng.uniform(*plan.jump))
        world.w.add(RepositorySnapshot, {
            "id": world.ids("repository_snapshots"), "repository_id": repo.id, "taken_on": month_end,
            "taken_at": beijing_day_end(month_end) - dt.timedelta(hours=1), "stars": stars,
            "forks": int(stars * 0.1), "subscribers": max(1, int(stars * 0.03)),
            "open_issues": open_issues if m == last else None, "created_at": created,
            "pushed_at": dt.datetime.combine(world.months[m], dt.time(12), dt.timezone.utc)})
