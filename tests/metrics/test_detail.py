"""社区详情's figures (tracker.metrics.detail) on the hand-built world (tests/metrics/handbuilt.py), SQLite and
PostgreSQL: each expected number is worked out by hand from the commits, issues and pulls written there."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.metrics import handbuilt as hb
from tests.metrics.test_signals_handbuilt import BACKENDS, database
from tracker import db as dbm
from tracker.access import Actor
from tracker.metrics import detail

AS_OF = dt.date.fromisoformat(hb.AS_OF)
NOW = hb.t("2026-11-02T00:00:00")
EVALUATOR = Actor("evaluator", "evaluator")


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory, sqlite_template, pg_databases):
    root = tmp_path_factory.mktemp("detail")
    with database(request.param, root, sqlite_template, pg_databases) as url:
        hb.build(url, hb.write_config(root / "config"))
        yield url


def months(activity: detail.MonthlyActivity, name: str) -> dict[str, int]:
    return {m: n for m, n in zip(activity.months, activity.series[name]) if n}


def test_monthly_activity_counts_beijing_months_mirrors_once_and_no_bots_or_merges(world):
    with dbm.session_scope(world) as s:
        alpha = detail.monthly_activity(s, EVALUATOR, "alpha", AS_OF)
    assert alpha.months[0] == "2024-11" and alpha.months[-1] == "2026-10" and len(alpha.months) == 24
    # a9 is Beijing 2025-10-31 23:59:59, a10 Beijing 2025-11-01 00:00; in October 2026 a1-a3 (also on the mirror:
    # once), a4, a7 (the last second of as-of); a5 a merge, a6 a bot, a8 after as-of
    assert months(alpha, "commits") == {"2025-10": 1, "2025-11": 1, "2026-06": 1, "2026-09": 1, "2026-10": 5}
    assert months(alpha, "contributors") == {"2025-10": 1, "2025-11": 1, "2026-06": 1, "2026-09": 1, "2026-10": 3}
    # issue 3 opened Beijing 08-02 23:59:59 and issue 4 Beijing 08-03: both August; issue 7 Beijing 10-21; I8 the
    # mirror's own
    assert months(alpha, "issues") == {"2026-05": 1, "2026-08": 2, "2026-09": 1, "2026-10": 4}
    assert months(alpha, "pulls") == {"2026-07": 1, "2026-08": 1, "2026-09": 1, "2026-10": 3}
    assert alpha.reasons == dict.fromkeys(detail.SERIES)


def test_a_series_without_its_data_is_unavailable_not_zero(world):
    with dbm.session_scope(world) as s:
        beta = detail.monthly_activity(s, EVALUATOR, "beta", AS_OF)
        gamma = detail.monthly_activity(s, EVALUATOR, "gamma", AS_OF)
    assert beta.series["issues"] is None and beta.reasons["issues"] == "not provided"  # git only
    assert months(beta, "commits") == {"2026-10": 1}  # h1; h2 a bot, h3 a merge
    assert gamma.series["commits"] is None and gamma.reasons["commits"] == "not collected"
    assert gamma.not_collected["commits"] == ["github:gamma/app"]
    assert gamma.series["issues"] is None and gamma.reasons["issues"] == "not collected"
    assert gamma.series["pulls"] == [0] * 24  # collected to the end, and there were none


def test_repositories_with_their_mirror_overlap_paged_by_the_database(world):
    with dbm.session_scope(world) as s:
        first = detail.repositories(s, EVALUATOR, "alpha", AS_OF, per_page=2, now=NOW)
        second = detail.repositories(s, EVALUATOR, "alpha", AS_OF, page=2, per_page=2, now=NOW)
    assert (first.total, first.pages) == (3, 2)
    rows = {r["path"]: r for r in first.rows + second.rows}
    assert [r["path"] for r in first.rows + second.rows] == ["alpha/tools", "alpha/core-mirror", "alpha/core"]
    # core counts a1-a4, a7, a9, a10 (7): a1-a3 are on the mirror too; the mirror counts a1-a3 and b1
    assert (rows["alpha/core"]["commits"], rows["alpha/core"]["mirrored_commits"]) == (7, 3)
    assert rows["alpha/core"]["mirror_overlap"] == pytest.approx(3 / 7)
    assert rows["alpha/core-mirror"]["mirror_overlap"] == pytest.approx(3 / 4)
    assert rows["alpha/tools"]["mirror_overlap"] == 0
    assert rows["alpha/core"]["platform_label"] == "GitHub" and rows["alpha/core"]["covers_as_of"]
    assert rows["alpha/core"]["collected_at"] == hb.COLLECTED
    with dbm.session_scope(world) as s:
        gamma = detail.repositories(s, EVALUATOR, "gamma", AS_OF, now=NOW).rows[0]
    assert gamma["collected_at"] is None and not gamma["covers_as_of"]  # its issues were never collected


def test_organisations_by_commit_share_with_the_unaffiliated_as_such(world):
    with dbm.session_scope(world) as s:
        orgs = detail.organisations(s, EVALUATOR, "alpha", AS_OF, 365)
    # 365 days: a10, a1, a2 (Alice, Acme), a3 (Bob before his CQU start: Acme), a4 (Bob: 重庆大学), a7 (Carol:
    # 重庆大学), b1 (Erin, free mail: nobody's), g1 (Dave, Beacon); a9 is a day before the window
    assert orgs.commits == 8
    assert [(r["name"], r["commits"], r["share"]) for r in orgs.rows] == [
        ("Acme", 4, 0.5), ("重庆大学", 2, 0.25), ("Beacon", 1, 0.125), (detail.UNAFFILIATED, 1, 0.125)]


def test_top_contributors_with_masked_e_mails(world):
    with dbm.session_scope(world) as s:
        first = detail.top_contributors(s, EVALUATOR, "alpha", AS_OF, 365, per_page=2)
        rest = detail.top_contributors(s, EVALUATOR, "alpha", AS_OF, 365, page=2, per_page=2)
        third = detail.top_contributors(s, EVALUATOR, "alpha", AS_OF, 365, page=3, per_page=2)
    assert first.total == 5 and first.pages == 3
    assert [(r["rank"], r["name"], r["email"], r["commits"]) for r in first.rows] == [
        (1, "Alice", "al***@acme.com", 3), (2, "Bob", "bo***@acme.com", 2)]
    assert first.rows[0]["organisation"] == "Acme" and first.rows[0]["last_at"] == hb.t("2026-10-20T02:00:00")
    assert {r["name"] for r in rest.rows + third.rows} == {"Carol", "Dave", "Erin"}
    assert [r["rank"] for r in rest.rows + third.rows] == [3, 4, 5]
    assert all("***@" in r["email"] for r in first.rows + rest.rows + third.rows)
