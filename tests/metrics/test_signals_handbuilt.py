"""Every signal of issue 17 on a small hand-built world (tests/metrics/handbuilt.py), read through `mtx metrics`.

The expected values are worked out by hand below, from the definitions in the issue, one comment per rule: a mirror
(the same sha in two repositories of a community counts once), a bot and a merge commit (never counted), window edges
(as-of 2026-10-31 ends at 2026-10-31T16:00:00Z; the 365-day window starts on Beijing 2025-11-01, the 90-day one on
Beijing 2026-08-03), an affiliation changing on the commit's Beijing date, an unanswered issue (its age at the end of
as-of), a failed or never-collected stream (null, "not collected"), a stream collected with no items (0), git-only
repositories (their issue, pull request and snapshot signals left out; "not provided" when nothing is left),
`--by repository`, and models setting `window_days`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shutil

import pytest

from tests.conftest import PG_ADMIN_URL
from tests.metrics import handbuilt as hb
from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.cli import main
from tracker.metrics.compute import compute_metrics

UTC = dt.timezone.utc
END = dt.datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # the end of Beijing 2026-10-31
DAY = 86400.0


def months(since: dt.datetime, end: dt.datetime = END) -> float:
    return (end - since).total_seconds() / DAY / 30.44


def per_week(commits: int, window_days: int) -> float:
    return commits / (window_days / 7)


# --- community alpha: github:alpha/core + gitee:alpha/core-mirror + git:alpha/tools ---------------------------------
# Counted commits in the 365-day window (Beijing 2025-11-01 .. 2026-10-31), a mirrored sha once:
#   a1 Alice/Acme, a2 Alice/Acme, a3 Bob/Acme (Beijing 10-14, before his CQU start), a4 Bob/重庆大学 (Beijing 10-15),
#   a7 Carol/重庆大学 (10-31 23:59:59), a10 Alice/Acme (2025-11-01 00:00:00), b1 Erin/individual, g1 Dave/Beacon = 8.
# Out: a5 (merge), a6 (bot), a8 (Beijing 11-01), a9 (Beijing 2025-10-31), a1-a3 of the mirror (the same shas).
# Counting the mirror twice would give 11 commits and Acme 7/11; counting a3 under Bob's later affiliation, CQU 3/8.
ALPHA = {
    # the earliest creation date among repositories with snapshots: core, 2020-01-15 (git:alpha/tools has none)
    "created_since": (months(hb.t("2020-01-15T00:00:00")), None, 2),
    # the latest counted commit is a7, one second before the end of as-of (a8 is after it)
    "updated_since": (1 / DAY / 30.44, None, 3),
    "contributor_count": (5, None, 3),                        # Alice, Bob, Carol, Erin, Dave (not Frank: a9 is out)
    "commit_frequency": (per_week(8, 365), None, 3),
    # v1.0 (core, and the mirror's copy of the same tag), v1.1-rc1 (a prerelease), tools-1.0 (a git tag);
    # not v0.9 (2025-06-01) nor the draft
    "recent_releases_count": (3, None, 3),
    # 90-day window: Beijing 2026-08-03 .. 10-31, i.e. [2026-08-02T16:00Z, 2026-10-31T16:00Z); git:alpha/tools left out
    "closed_issues_count": (2, None, 2),                      # #1 (09-10), #3 (08-20); not #5 (05-05)
    # #1, #2, #3, #4, #7 and the mirror's I8; not #5 (05-05) nor #6 (its last update, 11-02, is after as-of)
    "updated_issues_count": (6, None, 2),
    "comment_frequency": ((4 + 0 + 2 + 1 + 2 + 3) / 6, None, 2),
    # opened in the window: #1 2 d, #4 0.25 d (opened at the window's first second), I8 4 d; unanswered at the end of
    # as-of: #2 30 d 16 h, #6 1 d 16 h (answered only on 11-02), #7 11 d. Not #3 (opened one second before the window).
    # Sorted: 0.25, 1.667, 2, 4, 11, 30.667 -> median (2 + 4) / 2 = 3. (Leaving the unanswered out would give 2;
    # counting #6's late answer, 3.5; letting #3 in, 2.)
    "issue_first_response_days": (3.0, None, 2),
    # merged in the window: #1 2.5 d, #4 1 d 16 h (merged at the window's first second), #6 (mirror) 6 d; not #3
    # (merged one second before it). Median 2.5 (with #3, 4.25; without #4, 4.25).
    "pr_merge_days": (2.5, None, 2),
    "closed_prs_count": (4, None, 2),                         # #1, #2 (closed unmerged), #4, #6; not #3, not #5 (open)
    "code_review_count": (None, "not provided", 0),           # review comments are not collected
    "org_count": (3, None, 3),                                # Acme, 重庆大学, Beacon; Erin is an individual
    "top_org_commit_share": (4 / 8, None, 3),                 # Acme a1 a2 a3 a10 of 8 (Erin stays in the 8)
    "star_count": (10 + 5, None, 2),                          # core's 10-30 snapshot (not 11-05's 99) + mirror's 5
    "fork_count": (2 + 1, None, 2),
    "chongqing_contributor_count": (2, None, 3),              # Bob (a4 only) and Carol (a7)
    "chongqing_commit_share": (2 / 8, None, 3),               # a4, a7
    "dependents_count": (None, "no source", 0),
}

# --- community beta: git:beta/only, git-only --------------------------------------------------------------------------
NOT_PROVIDED = (None, "not provided", 0)
BETA = {
    "created_since": NOT_PROVIDED,                            # git repositories have no snapshot stream
    "updated_since": (months(hb.t("2026-10-05T00:00:00")), None, 1),  # h1; h2 is a bot's, h3 a merge
    "contributor_count": (1, None, 1),                        # Dave
    "commit_frequency": (per_week(1, 365), None, 1),
    "recent_releases_count": (0, None, 1),                    # releases (tags) collected: there are none
    "closed_issues_count": NOT_PROVIDED,
    "updated_issues_count": NOT_PROVIDED,
    "comment_frequency": NOT_PROVIDED,
    "issue_first_response_days": NOT_PROVIDED,
    "pr_merge_days": NOT_PROVIDED,
    "closed_prs_count": NOT_PROVIDED,
    "code_review_count": NOT_PROVIDED,
    "org_count": (1, None, 1),                                # Beacon
    "top_org_commit_share": (1.0, None, 1),
    "star_count": NOT_PROVIDED,
    "fork_count": NOT_PROVIDED,
    "chongqing_contributor_count": (0, None, 1),
    "chongqing_commit_share": (0.0, None, 1),
    "dependents_count": (None, "no source", 0),
}

# --- community gamma: github:gamma/app, with broken collection --------------------------------------------------------
# commits: last success 2026-10-31T15:00Z, before as-of ended -> not collected (although commit k1 is stored);
# releases: failed, never a success; issues: never attempted (no row); pulls: collected, empty; repo: collected.
NOT_COLLECTED = (None, "not collected", 1)
GAMMA = {
    "created_since": (months(hb.t("2026-01-01T00:00:00")), None, 1),
    "updated_since": NOT_COLLECTED,
    "contributor_count": NOT_COLLECTED,
    "commit_frequency": NOT_COLLECTED,
    "recent_releases_count": NOT_COLLECTED,
    "closed_issues_count": NOT_COLLECTED,
    "updated_issues_count": NOT_COLLECTED,
    "comment_frequency": NOT_COLLECTED,
    "issue_first_response_days": NOT_COLLECTED,
    # collected, and no pull request: a median over nothing has no value (not 0); the code names this "no activity"
    "pr_merge_days": (None, "no activity", 1),
    "closed_prs_count": (0, None, 1),                         # collected, and there were none: zero
    "code_review_count": (None, "not provided", 0),
    "org_count": NOT_COLLECTED,
    "top_org_commit_share": NOT_COLLECTED,
    "star_count": (0, None, 1),
    "fork_count": (0, None, 1),
    "chongqing_contributor_count": NOT_COLLECTED,
    "chongqing_commit_share": NOT_COLLECTED,
    "dependents_count": (None, "no source", 0),
}
COMMUNITIES = {"alpha": ALPHA, "beta": BETA, "gamma": GAMMA}

# --- `--by repository`: no mirror rule inside one repository ----------------------------------------------------------
REPOSITORIES = {
    # a1 a2 a10 (Alice), a3 a4 (Bob), a7 (Carol): 6 commits, Acme 4 (a1 a2 a3 a10), CQU 2 (a4 a7)
    "github:alpha/core": {"contributor_count": (3, None, 1), "commit_frequency": (per_week(6, 365), None, 1),
                          "org_count": (2, None, 1), "top_org_commit_share": (4 / 6, None, 1),
                          "chongqing_commit_share": (2 / 6, None, 1), "closed_issues_count": (2, None, 1),
                          "recent_releases_count": (2, None, 1), "star_count": (10, None, 1)},
    # a1 a2 (Alice), a3 (Bob, Acme on that day), b1 (Erin): 4 commits, Acme 3
    "gitee:alpha/core-mirror": {"contributor_count": (3, None, 1), "commit_frequency": (per_week(4, 365), None, 1),
                                "org_count": (1, None, 1), "top_org_commit_share": (3 / 4, None, 1),
                                "chongqing_commit_share": (0.0, None, 1), "closed_issues_count": (0, None, 1),
                                "recent_releases_count": (1, None, 1), "star_count": (5, None, 1)},
    "git:alpha/tools": {"contributor_count": (1, None, 1), "recent_releases_count": (1, None, 1),
                        "closed_issues_count": NOT_PROVIDED, "star_count": NOT_PROVIDED},
    "git:beta/only": {"contributor_count": (1, None, 1), "closed_prs_count": NOT_PROVIDED},
    "github:gamma/app": {"contributor_count": NOT_COLLECTED, "closed_prs_count": (0, None, 1),
                         "star_count": (0, None, 1)},
}


# --- models setting window_days ---------------------------------------------------------------------------------------
def model(name: str, signals: list[tuple]) -> dict:
    rows = []
    for signal, window, *smaller in signals:
        row = {"name": signal, "label_zh": signal, "description": f"{signal} over {window}", "weight": 1,
               "threshold": 10, "window_days": window}
        if smaller:
            row["direction"] = "smaller_is_better"
        rows.append(row)
    return {"name": name, "label_zh": name, "description": f"windows test model {name}",
            "groups": [{"name": "activity", "label_zh": "活跃度", "description": "activity", "signals": rows}]}


MODELS = {
    "alltime": model("alltime", [("contributor_count", "all"), ("closed_issues_count", "all"),
                                 ("updated_issues_count", "all")]),
    "month": model("month", [("contributor_count", 30), ("commit_frequency", 30), ("org_count", 30),
                             ("chongqing_contributor_count", 30), ("pr_merge_days", 30, True),
                             ("closed_prs_count", 30)]),
}
MODEL_EXPECTED = {
    # all time, up to the end of as-of: Frank's a9 counts now (a8 still does not): 6 people
    ("alltime", "alpha", "contributor_count"): (6, None, 3),
    ("alltime", "alpha", "closed_issues_count"): (3, None, 2),    # #1, #3, #5
    ("alltime", "alpha", "updated_issues_count"): (7, None, 2),   # #1-#5, #7, I8 (not #6: updated after as-of)
    ("alltime", "beta", "contributor_count"): (1, None, 1),
    ("alltime", "beta", "closed_issues_count"): NOT_PROVIDED,
    # 30 days: Beijing 2026-10-02 .. 10-31, from 2026-10-01T16:00Z: a2 (Alice), a3 a4 (Bob), a7 (Carol); not a1
    # (Beijing 10-01 10:00) nor b1
    ("month", "alpha", "contributor_count"): (3, None, 3),
    ("month", "alpha", "commit_frequency"): (per_week(4, 30), None, 3),
    ("month", "alpha", "org_count"): (2, None, 3),                # Acme (a2, a3), 重庆大学 (a4, a7)
    ("month", "alpha", "chongqing_contributor_count"): (2, None, 3),
    ("month", "alpha", "pr_merge_days"): (6.0, None, 2),          # only the mirror's #6 (merged 10-16)
    ("month", "alpha", "closed_prs_count"): (2, None, 2),         # #2 (closed Beijing 10-02 08:00), #6
    ("month", "beta", "contributor_count"): (1, None, 1),         # h1, Beijing 10-05
    ("month", "beta", "commit_frequency"): (per_week(1, 30), None, 1),
    ("month", "beta", "pr_merge_days"): NOT_PROVIDED,
}


# --- the world, built once per backend --------------------------------------------------------------------------------
BACKENDS = ["sqlite", *(["postgresql"] if PG_ADMIN_URL else [])]


def metrics_json(url: str, config, *extra: str) -> list[dict]:
    """`mtx metrics --as-of 2026-10-31 --format json [extra]`, parsed. Output is captured with redirect_stdout, not
    capsys: the world is built once per module (and backend), and capsys is per test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--db", url, "--config", str(config), "metrics", "--as-of", hb.AS_OF, "--format", "json",
                     *extra])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def by_scope(entries: list[dict]) -> dict[str, dict]:
    return {(e["community"] if "community" in e else f"{e['repository']['platform']}:{e['repository']['path']}"):
            e for e in entries}


@contextlib.contextmanager
def database(backend: str, directory, sqlite_template, pg_databases):
    if backend == "postgresql":
        url = pg_databases.create(migrated=True)
    else:
        path = directory / "mtx.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    try:
        yield url
    finally:
        pg_databases.drop(url) if backend == "postgresql" else dbm.dispose_engine(url)


class World(dict):
    """The built database's `mtx metrics` outputs, each read once on first use (a failing read fails its tests only)."""

    READS = {"communities": (), "repositories": ("--by", "repository"),
             **{name: ("--model", name) for name in MODELS}}

    def __init__(self, url: str, config) -> None:
        super().__init__()
        self.url, self.config = url, config
        self.failed: dict[str, Exception] = {}

    def __missing__(self, key: str) -> dict:
        failed = self.failed.get(key)
        if failed is None:
            try:
                self[key] = by_scope(metrics_json(self.url, self.config, *self.READS[key]))
                return self[key]
            except Exception as exc:  # noqa: BLE001 — kept, so the next test of this read fails at once alike
                failed = self.failed[key] = exc
        raise AssertionError(f"`mtx metrics {' '.join(self.READS[key])}` failed: {failed!r}") from failed


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory, sqlite_template, pg_databases):
    root = tmp_path_factory.mktemp("handbuilt")
    with database(request.param, root, sqlite_template, pg_databases) as url:
        config = hb.write_config(root / "config", MODELS)
        hb.build(url, config)
        yield World(url, config)


def check(got: dict, expected: tuple) -> None:
    value, reason, repositories = expected
    assert (got["reason"], got["repositories"]) == (reason, repositories), got
    if value is None:
        assert got["value"] is None, got
    else:
        assert got["value"] == pytest.approx(value, rel=1e-12, abs=1e-12), got
        if isinstance(value, int):
            assert isinstance(got["value"], int), got  # a count is a whole number


# --- the tests --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("community", "signal"), [(c, s) for c, table in COMMUNITIES.items() for s in table])
def test_signal_of_a_community(world, community, signal):
    check(world["communities"][community]["signals"][signal], COMMUNITIES[community][signal])


def test_every_signal_is_in_the_tables(world):
    """The tables above cover every signal metrics report (a new signal needs its hand-worked row)."""
    assert set(world["communities"]) == set(COMMUNITIES)
    for slug, entry in world["communities"].items():
        assert entry["as_of"] == hb.AS_OF
        assert set(entry["signals"]) == set(COMMUNITIES[slug]), slug


@pytest.mark.parametrize(("repository", "signal"), [(r, s) for r, table in REPOSITORIES.items() for s in table])
def test_signal_of_a_repository(world, repository, signal):
    check(world["repositories"][repository]["signals"][signal], REPOSITORIES[repository][signal])


def test_by_repository_lists_every_repository_once(world):
    assert set(world["repositories"]) == set(REPOSITORIES)
    # the mirror's three shared commits count in each repository (6 + 4 + 1) but once in the community (8)
    commits = {r: round(world["repositories"][r]["signals"]["commit_frequency"]["value"] * 365 / 7)
               for r in ("github:alpha/core", "gitee:alpha/core-mirror", "git:alpha/tools")}
    assert sum(commits.values()) == 11
    assert round(world["communities"]["alpha"]["signals"]["commit_frequency"]["value"] * 365 / 7) == 8


@pytest.mark.parametrize(("name", "community", "signal"), list(MODEL_EXPECTED))
def test_a_model_sets_the_window(world, name, community, signal):
    got = world[name][community]["signals"][signal]
    check(got, MODEL_EXPECTED[(name, community, signal)])
    window = next(s["window_days"] for s in MODELS[name]["groups"][0]["signals"] if s["name"] == signal)
    assert got["window"] == window


@pytest.mark.parametrize("name", list(MODELS))
def test_a_model_gets_only_its_signals(world, name):
    wanted = [s["name"] for s in MODELS[name]["groups"][0]["signals"]]
    for entry in world[name].values():
        assert list(entry["signals"]) == wanted


# --- freshness against a fixed now (compute_metrics: the CLI reads the clock) -----------------------------------------
# Every healthy stream last succeeded at 2026-11-01T00:00Z (Beijing 11-01 08:00); gamma's commits at 10-31T15:00Z.
# The issue: a number when the streams finished after as-of ended, or within stale_after_days when as-of is today.
# Values when collected, as of Beijing 11-01 or 11-05 (365 days back to 2025-11-02 / 2025-11-06): alpha a1 a2 a3 a4 a7
# a8 b1 g1 = 8 commits by 5 people; Acme a1 a2 a3 = 3, 重庆大学 a4 a7 a8 = 3 -> top share 3/8. gamma: k1 by Alice.
FRESH_ALPHA = {"contributor_count": 5, "top_org_commit_share": 3 / 8}
FRESH_GAMMA = {"contributor_count": 1, "top_org_commit_share": 1.0}
FRESHNESS = [
    # (now, as-of, stale_after_days, alpha, gamma)
    # as-of is today (Beijing 11-01 12:00): both successes are within 3 days
    ("2026-11-01T04:00:00", "2026-11-01", 3, FRESH_ALPHA, FRESH_GAMMA),
    # as-of is today (Beijing 11-05 08:00): 11-01 is 4 days ago, older than 3 days
    ("2026-11-05T00:00:00", "2026-11-05", 3, None, None),
    # the same with 5 days allowed: 11-01T00:00 and 10-31T15:00 are within 5 days of 11-05T00:00
    ("2026-11-05T00:00:00", "2026-11-05", 5, FRESH_ALPHA, FRESH_GAMMA),
    # as-of 11-01 is not today: only a success after 11-01 ended (11-01T16:00Z) counts, whatever stale_after_days
    ("2026-11-05T00:00:00", "2026-11-01", 5, None, None),
]


@pytest.mark.postgres
@pytest.mark.parametrize(("now", "as_of", "stale", "alpha", "gamma"), FRESHNESS)
def test_freshness_decides_collected(db_url, tmp_path, now, as_of, stale, alpha, gamma):
    hb.build(db_url, hb.write_config(tmp_path / "config"))
    with dbm.session_scope(db_url) as s:
        report = compute_metrics(s, SYSTEM, as_of=dt.date.fromisoformat(as_of), now=hb.t(now),
                                 stale_after_days=stale, names=list(FRESH_ALPHA))
    got = {scope.key: scope.signals for scope in report.scopes}
    for slug, expected in (("alpha", alpha), ("gamma", gamma)):
        for signal in FRESH_ALPHA:
            value = got[slug][signal]
            if expected is None:
                assert (value.value, value.reason) == (None, "not collected"), (slug, signal, value)
            else:
                assert value.reason is None and value.value == pytest.approx(expected[signal]), (slug, signal, value)


# --- the aggregates kept in step: built before people are resolved, refreshed by resolution ---------------------------


@pytest.mark.postgres
def test_aggregates_built_before_resolution_are_refreshed_by_it(db_url, tmp_path):
    config = hb.write_config(tmp_path / "config")
    hb.build(db_url, config, resolve=False)
    metrics_json(db_url, config)          # the first read builds the aggregates over unresolved identities
    report = hb.resolve_config(db_url, config)
    assert report.touched                 # resolution created people: their rows are refreshed in its transaction
    got = by_scope(metrics_json(db_url, config))
    for slug, table in COMMUNITIES.items():
        for signal, expected in table.items():
            check(got[slug]["signals"][signal], expected)
