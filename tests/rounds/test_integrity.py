"""Issue 19's integrity flags: hand-computed on a small world stored the way collection stores it, each rule exactly at
its threshold (no flag) and just above it (a flag), on SQLite and PostgreSQL; the sample's integrity case trips all
three and no other community trips any, decided here from the raw tables; the thresholds in config/rounds.yaml.

The cutoff is 2026-10-31 (Beijing), which ends at 2026-10-31T16:00:00Z. Windows are Beijing days ending with it:
365 days from 2025-11-01 00:00 +08:00 (2025-10-31T16:00Z), 60 days from 2026-09-02 00:00 +08:00 (2026-09-01T16:00Z),
newcomers first seen from 2026-08-03 00:00 +08:00 (2026-08-02T16:00Z); stars now (latest snapshot on or before 10-31)
against the latest snapshot on or before 10-01.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select, text

import collector.records as rec
from tests.metrics.independent import RawTables, window_start
from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.cli import main
from tracker.collect import store
from tracker.config import IdentitiesFile, OrganisationsFile
from tracker.models import Community, CommunityRepository, Repository
from tracker.people.resolve import resolve_people
from tracker.rounds.checklist import Integrity, load_rounds_config
from tracker.rounds.integrity import Flag, integrity_flags
from tracker.sample import DEFAULT_AS_OF, build_sample
from tracker.sample import integrity_case

pytestmark = pytest.mark.postgres

UTC = dt.timezone.utc
CUTOFF = dt.date(2026, 10, 31)
CONFIG = Path(__file__).resolve().parents[2] / "config"


def t(text_: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_).replace(tzinfo=UTC)


def spread(first: str, last: str, n: int) -> list[dt.datetime]:
    """n instants from first to last inclusive, evenly spaced (n >= 2)."""
    a, b = t(first), t(last)
    return [a + (b - a) * k / (n - 1) for k in range(n)]


EMAIL = {name: f"{name}@example.com" for name in ("vera", "olga", "pete", "nina", "quin", "rob", "sam", "tia")}
EMAIL["bot"] = "49699333+dependabot[bot]@users.noreply.github.com"


class World:
    """Commits (sha, person, UTC time, merge) and snapshots (day, stars) per repository of each community."""

    def __init__(self) -> None:
        self.repos: dict[str, list[tuple[str, str]]] = {}   # community -> [(platform, path)]
        self.commits: dict[str, list[tuple[str, str, dt.datetime, bool]]] = {}
        self.snapshots: dict[str, list[tuple[dt.date, int]]] = {}
        self.serial = 0

    def repo(self, community: str, platform: str, name: str) -> str:
        path = f"{community}/{name}"
        self.repos.setdefault(community, []).append((platform, path))
        self.commits.setdefault(path, [])
        return path

    def commit(self, path: str, who: str, when: dt.datetime, merge: bool = False, sha: str | None = None) -> str:
        self.serial += 1
        sha = sha or f"{self.serial:040x}"
        self.commits[path].append((sha, who, when, merge))
        return sha

    def snapshot(self, path: str, day: str, stars: int) -> None:
        self.snapshots.setdefault(path, []).append((dt.date.fromisoformat(day), stars))


def burst_community(w: World, slug: str, recent: int, baseline: int) -> None:
    """vera, first seen long ago (2025-01-10, before the window: not a newcomer, not in the window's count), commits
    ``baseline`` times in the window before the 60 days (the last at 2026-09-01T15:59:59Z, Beijing 09-01 23:59:59, the
    last second before them) and ``recent`` times in them (the first at 2026-09-01T16:00:00Z, their first second; the
    last at 10-31T15:59:59Z). Never counted: a commit a second before the window, one a second after the cutoff, a
    merge and a bot commit in the 60 days."""
    core = w.repo(slug, "github", "core")
    w.commit(core, "vera", t("2025-01-10T08:00:00"))
    w.commit(core, "vera", t("2025-10-31T15:59:59"))                      # Beijing 2025-10-31: before the window
    for when in spread("2025-10-31T16:00:00", "2026-09-01T15:59:59", baseline):
        w.commit(core, "vera", when)
    for when in spread("2026-09-01T16:00:00", "2026-10-31T15:59:59", recent):
        w.commit(core, "vera", when)
    w.commit(core, "vera", t("2026-10-31T16:00:00"))                      # Beijing 11-01: after the cutoff
    w.commit(core, "vera", t("2026-10-10T00:00:00"), merge=True)          # a merge: never counted
    w.commit(core, "bot", t("2026-10-11T00:00:00"))                       # a bot: never counted


def build_world() -> World:
    w = World()
    # commit_burst: counted commits c60 (60 days) and c365 (365 days); flag when c60/(60/7) > 3 x c365/(365/7),
    # i.e. c60 x 365 > 180 x c365.
    # burst-at: c60 = 36, c365 = 36 + 37 = 73: 36 x 365 = 13,140 = 180 x 73 -> exactly 3x, no flag. (Counting the
    # baseline's last second among the 60 days would make it 37: a flag.)
    burst_community(w, "burst-at", recent=36, baseline=37)
    # burst-over: c60 = 37, c365 = 37 + 36 = 73: ratio 37 x 365 / (73 x 60) = 13,505 / 4,380 = 3.0833... -> flag.
    # Its GitHub core is mirrored on Gitee with five of the 60 days' commits (same shas): counted once.
    burst_community(w, "burst-over", recent=37, baseline=36)
    mirror = w.repo("burst-over", "gitee", "core-mirror")
    for sha, who, when, merge in w.commits["burst-over/core"][-10:-5]:
        assert when >= t("2026-09-01T16:00:00") and not merge
        w.commit(mirror, who, when, sha=sha)

    # newcomer_commits: of the 365 days' counted commits, the share by people whose first counted commit in that
    # community is at or after 2026-08-02T16:00Z; flag above 30 %.
    # new-at: 10 commits: olga 4 (first seen 2025-03-01), pete 2 (first 2026-08-02T15:59:59Z, Beijing 08-02 23:59:59,
    # a second too early: not a newcomer), rob 1 (back in 2026-09 after a commit in 2024: first seen in 2024), nina 2
    # (first at 2026-08-02T16:00:00Z, the first newcomer second: a newcomer), quin 1 (a newcomer here, though he
    # committed to star-at in 2024). Newcomers 2 + 1 = 3 of 10 = exactly 30 % -> no flag. Not counted: the bot's five
    # new commits and nina's merge. (Counting rob, or pete, as a newcomer would flag.)
    core = w.repo("new-at", "git", "core")
    w.commit(core, "olga", t("2025-03-01T00:00:00"))
    for when in spread("2026-01-05T00:00:00", "2026-04-05T00:00:00", 4):
        w.commit(core, "olga", when)
    w.commit(core, "pete", t("2026-08-02T15:59:59"))
    w.commit(core, "pete", t("2026-08-20T00:00:00"))
    w.commit(core, "rob", t("2024-05-01T00:00:00"))
    w.commit(core, "rob", t("2026-09-10T00:00:00"))
    w.commit(core, "nina", t("2026-08-02T16:00:00"))
    w.commit(core, "nina", t("2026-08-15T00:00:00"))
    w.commit(core, "nina", t("2026-08-16T00:00:00"), merge=True)
    w.commit(core, "quin", t("2026-08-20T00:00:00"))
    for when in spread("2026-08-10T00:00:00", "2026-08-30T00:00:00", 5):
        w.commit(core, "bot", when)
    # new-over: 10 commits: sam 6 (first seen 2025-02-01), tia 3 and quin 1 (both first seen here in August 2026):
    # 4 of 10 = 40 % by 2 newcomers -> flag. (Judging quin by his first commit anywhere, 2024, would give 30 %.)
    core = w.repo("new-over", "git", "core")
    w.commit(core, "sam", t("2025-02-01T00:00:00"))
    for when in spread("2026-02-01T00:00:00", "2026-07-01T00:00:00", 6):
        w.commit(core, "sam", when)
    for when in spread("2026-08-10T00:00:00", "2026-08-20T00:00:00", 3):
        w.commit(core, "tia", when)
    w.commit(core, "quin", t("2026-08-12T00:00:00"))

    # star_jump: stars summed over the repositories with a count both on or before 10-31 and on or before 10-01.
    # star-at: 20 on 10-01 (the 09-30 snapshot is older), 100 on 10-31: exactly 5x -> no flag.
    core = w.repo("star-at", "github", "core")
    w.commit(core, "quin", t("2024-06-01T00:00:00"))
    w.snapshot(core, "2026-09-30", 12)
    w.snapshot(core, "2026-10-01", 20)
    w.snapshot(core, "2026-10-31", 100)
    # star-over: a (github) 15 on 10-01 -> 80 on 10-31; b (gitee) 5 on 09-20 -> 21 on 10-25 (its 11-05 snapshot is
    # after the cutoff); c first collected on 10-15 (500 stars, nothing before: left out); d a git repository.
    # 15 + 5 = 20 -> 80 + 21 = 101: 5.05x over 2 repositories -> flag.
    a, b = w.repo("star-over", "github", "a"), w.repo("star-over", "gitee", "b")
    c, _ = w.repo("star-over", "github", "c"), w.repo("star-over", "git", "d")
    w.snapshot(a, "2026-10-01", 15)
    w.snapshot(a, "2026-10-31", 80)
    w.snapshot(b, "2026-09-20", 5)
    w.snapshot(b, "2026-10-25", 21)
    w.snapshot(b, "2026-11-05", 9999)
    w.snapshot(c, "2026-10-15", 500)
    # from no stars: counted against one star, and flagged only from star_from_zero (20) stars now
    w.snapshot(w.repo("zero-below", "github", "core"), "2026-10-01", 0)    # 0 -> 19: 19x, but below 20 -> no flag
    w.snapshot("zero-below/core", "2026-10-31", 19)
    w.snapshot(w.repo("zero-at", "github", "core"), "2026-10-01", 0)       # 0 -> 20: 20x and 20 stars -> flag
    w.snapshot("zero-at/core", "2026-10-31", 20)
    w.repo("quiet", "github", "core")                                      # nothing at all: no flag
    return w


def store_world(url: str, w: World) -> dict[str, int]:
    """Through the collection's store (the aggregates kept in step page by page), then people resolved."""
    with dbm.session_scope(url) as s:
        ids = {}
        for slug, repos in w.repos.items():
            community = Community(slug=slug, name_zh=f"社区 {slug}", focus="other")
            s.add(community)
            s.flush()
            ids[slug] = community.id
            for platform, path in repos:
                repo = Repository(platform=platform, api_url=f"https://{platform}.test", path=path)
                s.add(repo)
                s.flush()
                s.add(CommunityRepository(community_id=community.id, repository_id=repo.id))
                s.flush()
                records = [rec.Commit(sha=sha, author_name=who, author_email=EMAIL[who], author_login=None,
                                      author_time=when, committer_name=who, committer_email=EMAIL[who],
                                      committer_login=None, committer_time=when, is_merge=merge, is_bot=False,
                                      message_title=sha[-4:]) for sha, who, when, merge in w.commits[path]]
                store.store_commits(s, repo, records)
                for day, stars in w.snapshots.get(path, []):
                    snap = rec.RepoSnapshot(platform=platform, path=path, state="active", default_branch="main",
                                            stars=stars, forks=0)
                    store.store_snapshot(s, repo, snap, day, dt.datetime.combine(day, dt.time(1), UTC))
    identities = IdentitiesFile.model_validate({"bots": {"patterns": [r"\[bot\]$"], "emails": [], "logins": []}})
    with dbm.session_scope(url) as s:
        resolve_people(s, SYSTEM, identities, OrganisationsFile())
    return ids


@pytest.fixture
def world(db_url) -> tuple[str, dict[str, int]]:
    return db_url, store_world(db_url, build_world())


def flags_of(url: str, ids: dict[str, int], thresholds: Integrity = Integrity()) -> dict[str, list[Flag]]:
    with dbm.session_scope(url) as s:
        out = integrity_flags(s, list(ids.values()), CUTOFF, thresholds)
    slug = {v: k for k, v in ids.items()}
    return {slug[cid]: flags for cid, flags in out.items()}


def test_each_rule_flags_just_above_its_threshold_and_not_at_it(world):
    url, ids = world
    flags = flags_of(url, ids)
    assert set(flags) == set(ids)  # every community asked about, flagged or not
    assert {slug: [f.code for f in fs] for slug, fs in flags.items() if fs} == {
        "burst-over": ["commit_burst"], "new-over": ["newcomer_commits"], "star-over": ["star_jump"],
        "zero-at": ["star_jump"]}

    [burst] = flags["burst-over"]
    assert burst.value == pytest.approx(13_505 / 4_380, abs=1e-12) and burst.threshold == 3.0
    assert burst.label_zh == "提交量突增"
    # 37 commits in 60 days = 4.3 a week; 73 in 365 days = 1.4 a week; 3.08 shown with two decimals (3.1 > 3 too)
    assert "截止前 60 天提交 37 次（周均 4.3 次），为 12 个月周均值 1.4 次的 3.1 倍，阈值 3 倍" in burst.detail
    assert "/ 37 commits in the 60 days before the cutoff (4.3 a week), 3.1× the 12-month weekly average of 1.4" \
        in burst.detail

    [newcomers] = flags["new-over"]
    assert newcomers.value == 0.4 and newcomers.threshold == 0.3
    assert "10 次提交中，4 次（40.0%）来自截止前 90 天内首次在该社区提交的 2 人，阈值 30%" in newcomers.detail
    assert "4 of the 10 commits in the 365 days before the cutoff (40.0%) are by 2 people" in newcomers.detail

    [stars] = flags["star-over"]
    assert stars.value == 101 / 20 and stars.threshold == 5.0
    assert "星标数 30 天内由 20 增至 101（2 个仓库），为原来的 5.05 倍" in stars.detail  # one decimal would read "5.0"
    assert "stars went from 20 to 101 in the 30 days before the cutoff (2 repositories), 5.05×" in stars.detail

    [zero] = flags["zero-at"]
    assert zero.value == 20.0 and zero.threshold == 5.0
    assert "由 0 增至 20" in zero.detail and "按 1 星计" in zero.detail and "from no stars" in zero.detail
    assert zero.as_dict() == {"code": "star_jump", "label": "星标数突增", "detail": zero.detail, "value": 20.0,
                              "threshold": 5.0}


def test_the_thresholds_given_are_the_ones_used(world):
    url, ids = world
    # burst-over measures 3.0833: flagged under 3.08, not under 3.09
    assert [f.code for f in flags_of(url, ids, Integrity(burst_ratio=3.08))["burst-over"]] == ["commit_burst"]
    assert flags_of(url, ids, Integrity(burst_ratio=3.09))["burst-over"] == []
    # a 30-day burst window (Beijing 10-02 .. 10-31, from 10-01T16:00Z): 18 of burst-at's 36 evenly spaced recent
    # commits (the k-th of them, k = 0 .. 35, is k/35 of the way from 09-01T16:00:00 to 10-31T15:59:59, on or after
    # 10-01T16:00 from k = 18 on: k/35 x 5,183,999 s >= 2,592,000 s), c365 = 73:
    # 18 x 365 / (73 x 30) = 3.0 exactly -> still no flag; at 2.99 it flags
    assert flags_of(url, ids, Integrity(burst_days=30))["burst-at"] == []
    [flag] = flags_of(url, ids, Integrity(burst_days=30, burst_ratio=2.99))["burst-at"]
    assert flag.value == 3.0
    # new-at's share is exactly 30 %: flagged once the threshold is below it
    [flag] = flags_of(url, ids, Integrity(newcomer_share=0.29))["new-at"]
    assert flag.value == 0.3 and flag.threshold == 0.29
    # a 120-day newcomer window (from Beijing 2026-07-04): pete is then a newcomer too: 5 of 10
    assert flags_of(url, ids, Integrity(newcomer_days=120))["new-at"][0].value == 0.5
    # star_from_zero 19: zero-below (0 -> 19) flags too
    assert [f.value for f in flags_of(url, ids, Integrity(star_from_zero=19))["zero-below"]] == [19.0]
    # stars 60 days back: star-at compares 100 with nothing on or before 09-01 -> left out, no flag
    assert flags_of(url, ids, Integrity(star_days=60))["star-at"] == []


def test_no_community_and_unknown_communities(world):
    url, ids = world
    with dbm.session_scope(url) as s:
        assert integrity_flags(s, [], CUTOFF, Integrity()) == {}
        assert integrity_flags(s, [ids["quiet"], 99_999], CUTOFF, Integrity()) == {ids["quiet"]: [], 99_999: []}


# --- the sample -----------------------------------------------------------------------------------------------------


def independent_measures(url: str, cutoff: dt.date) -> dict[str, dict[str, tuple]]:
    """Per community, from the raw tables (tests/metrics/independent.py, never the aggregates): (c60, c365), (newcomer
    commits, c365), (stars then, stars now) over repositories with a count in both snapshots."""
    with dbm.get_engine(url).connect() as conn:
        raw = RawTables(conn, cutoff)
        snapshots = conn.execute(text("SELECT repository_id, taken_on, stars FROM repository_snapshots "
                                      "WHERE stars IS NOT NULL")).all()
    counted = raw.community_commits()  # one row per sha and community, merges and bots out, before the cutoff ends
    first_seen = counted.groupby(["slug", "author"])["author_time"].min()
    start_365, start_60, seen_from = (window_start(cutoff, d) for d in (365, 60, 90))

    def latest(day: dt.date) -> dict[int, int]:
        best: dict[int, tuple[str, int]] = {}
        for rid, taken_on, stars in snapshots:
            taken = str(taken_on)[:10]
            if taken <= day.isoformat() and (rid not in best or taken > best[rid][0]):
                best[rid] = (taken, stars)
        return {rid: stars for rid, (_, stars) in best.items()}

    now, then = latest(cutoff), latest(cutoff - dt.timedelta(days=30))
    out = {}
    for slug in raw.slugs:
        mine = counted[counted["slug"] == slug]
        year = mine[mine["author_time"] >= start_365]
        recent = year[year["author_time"] >= start_60]
        new = year[[first_seen[(slug, a)] >= seen_from for a in year["author"]]]
        repos = [int(r) for r in raw.members.loc[raw.members["slug"] == slug, "repository_id"]]
        both = [r for r in repos if r in now and r in then]
        out[slug] = {"burst": (len(recent), len(year)), "new": (len(new), len(year)),
                     "stars": (sum(then[r] for r in both), sum(now[r] for r in both), len(both))}
    return out


def expected_flags(measures: dict[str, tuple]) -> dict[str, float]:
    """The rules in the issue's words, with config/rounds.yaml's shipped thresholds (3, 30 %, 5, from zero 20)."""
    out = {}
    c60, c365 = measures["burst"]
    if c365 and Fraction(c60, 60) > 3 * Fraction(c365, 365):
        out["commit_burst"] = (c60 / (60 / 7)) / (c365 / (365 / 7))
    new, c365 = measures["new"]
    if c365 and Fraction(new, c365) > Fraction(3, 10):
        out["newcomer_commits"] = new / c365
    then, now, repos = measures["stars"]
    if repos and (now > 5 * then if then else now >= 20 and now > 5):
        out["star_jump"] = now / max(then, 1)
    return out


def test_the_sample_integrity_case_trips_all_three_and_nothing_else_trips(db_url):
    build_sample(db_url, scale=1)
    thresholds = load_rounds_config(CONFIG).integrity
    with dbm.session_scope(db_url) as s:
        ids = dict(s.execute(select(Community.slug, Community.id)).all())
        name = s.scalar(select(Community.name_zh).where(Community.slug == integrity_case.SLUG))
    assert len(ids) == 13 and name.endswith("（示例）")
    got = {slug: {f.code: f.value for f in fs} for slug, fs in flags_of(db_url, ids, thresholds).items()}
    measures = independent_measures(db_url, DEFAULT_AS_OF)
    expected = {slug: expected_flags(m) for slug, m in measures.items()}
    assert set(got) == set(expected) == set(ids)
    for slug in ids:
        assert got[slug].keys() == expected[slug].keys(), (slug, measures[slug])
        for code, value in expected[slug].items():
            assert got[slug][code] == pytest.approx(value, rel=1e-12), (slug, code)
    assert {slug for slug, flags in expected.items() if flags} == {integrity_case.SLUG}
    assert set(expected[integrity_case.SLUG]) == {"commit_burst", "newcomer_commits", "star_jump"}
    # by wide margins, as the case promises, and the people behind the burst are new to it but not to the sample
    c60, c365 = measures[integrity_case.SLUG]["burst"]
    assert c60 > 300 and expected[integrity_case.SLUG]["commit_burst"] > 4
    assert expected[integrity_case.SLUG]["newcomer_commits"] > 0.7 and expected[integrity_case.SLUG]["star_jump"] > 8
    with dbm.get_engine(db_url).connect() as conn:
        authors = ("SELECT DISTINCT i.person_id FROM commits c JOIN commit_identities i ON i.id = c.author_identity_id "
                   "JOIN community_repositories l ON l.repository_id = c.repository_id WHERE l.community_id {} :case")
        case = {"case": ids[integrity_case.SLUG]}
        mine = set(conn.execute(text(authors.format("=")), case).scalars())
        elsewhere = set(conn.execute(text(authors.format("<>")), case).scalars())
    assert len(mine) == integrity_case.CORE_PEOPLE + integrity_case.NEWCOMERS and mine <= elsewhere


# --- config/rounds.yaml ---------------------------------------------------------------------------------------------


def test_the_shipped_thresholds_are_the_issues(tmp_path):
    assert load_rounds_config(CONFIG).integrity.model_dump() == {
        "window_days": 365, "burst_days": 60, "burst_ratio": 3.0, "newcomer_days": 90, "newcomer_share": 0.3,
        "star_days": 30, "star_ratio": 5.0, "star_from_zero": 20}
    assert load_rounds_config(tmp_path).integrity == Integrity()  # no rounds.yaml: the same defaults


@pytest.mark.parametrize("change, key", [
    ({"burst_ratoi": 3}, "integrity.burst_ratoi"),                 # a misspelt key is refused, not ignored
    ({"newcomer_share": 30}, "integrity.newcomer_share"),           # a percentage where a share is wanted
    ({"burst_days": 400}, "integrity"),                            # longer than the 365-day window
    ({"star_ratio": "five"}, "integrity.star_ratio"),
])
def test_config_check_names_a_bad_integrity_key(tmp_path, capsys, change, key):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    data = yaml.safe_load((config / "rounds.yaml").read_text(encoding="utf-8"))
    data["integrity"].update(change)
    (config / "rounds.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(config), "config", "check", "--json"]) == 1
    problems = [p for p in json.loads(capsys.readouterr().out)["problems"] if p["file"].endswith("rounds.yaml")]
    assert [p["key"] for p in problems] == [key], problems
