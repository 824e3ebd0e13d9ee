"""社区详情 through the app (AppTest): the score as `mtx score --explain` gives it, monthly commits and mirror overlap
equal to counts made here from the commits, e-mails masked, contributors paged, enterprise users refused."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import create_engine, text

from tests.app.test_ranking import CONFIG, run
from tracker import db as dbm
from tracker.access import AccessDenied, Actor
from tracker.cli import main

SLUG = "wudu-harmony-devices"  # the sample community with two mirrors of one repository (GitHub and GitCode)
AS_OF = "2026-10-31"
END = "2026-10-31 16:00:00"  # the end of the Beijing day AS_OF, in UTC as SQLite stores times
EVALUATOR = Actor("evaluator", "evaluator")

COUNTED = """
    FROM commits c
    JOIN community_repositories l ON l.repository_id = c.repository_id
    JOIN communities m ON m.id = l.community_id
    LEFT JOIN commit_identities i ON i.id = c.author_identity_id
    LEFT JOIN people p ON p.id = i.person_id
    WHERE m.slug = :slug AND NOT c.is_merge AND NOT COALESCE(p.is_bot, i.is_bot, c.is_bot)
      AND c.author_time < :end
"""


def open_detail(monkeypatch, url, actor=EVALUATOR, slug=SLUG):
    """The page at ?community=SLUG&as_of=AS_OF, as a link from the ranking opens it."""
    at = run(monkeypatch, url, actor)
    at.query_params["community"] = slug
    at.query_params["as_of"] = AS_OF
    at.switch_page("views/community.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def page(sample_db, tmp_path_factory):
    """One rendering of the page on a private copy of the sample, read by the tests that only look at it."""
    import shutil

    path = tmp_path_factory.mktemp("community") / "sample.db"
    shutil.copyfile(sample_db, path)
    url = f"sqlite:///{path}"
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield url, open_detail(monkeypatch, url)
    dbm.dispose_engine(url)


def table(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def query(url, sql, **params):
    engine = create_engine(dbm.normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def test_the_link_opens_the_community_with_the_points_of_mtx_score_explain(page, capsys):
    sample_db_url, at = page
    assert at.title[0].value == "社区详情"
    assert next(box for box in at.selectbox if box.label == "社区").value == SLUG
    shown = table(at, "代号")
    capsys.readouterr()
    assert main(["--db", sample_db_url, "--config", str(CONFIG), "score", "--explain", SLUG, "--as-of", AS_OF,
                 "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    signals = expected["results"][0]["signals"]
    assert list(shown["代号"]) == list(signals)
    assert list(shown["得分"]) == [s["points"] for s in signals.values()]
    assert list(shown["满分"]) == [s["max_points"] for s in signals.values()]
    assert next(m for m in at.metric if m.label == "定量得分").value == \
        f"{expected['results'][0]['score']:g} / {expected['max_score']:g}"
    missing = table(at, "原因")
    assert list(missing["信号"]) == [shown.loc[shown["代号"] == n, "信号"].item()
                                   for n, s in signals.items() if s["value"] is None]
    gaps = table(at, "低于中位数（分）")
    assert list(gaps["低于中位数（分）"]) == [round(g["points_below_median"], 2) for g in expected["gaps"]]


def test_monthly_commits_equal_distinct_shas_counted_here(page):
    sample_db_url, at = page
    monthly = table(at, "月份")
    assert len(monthly) == 24 and monthly["月份"].iloc[0] == "2024-11" and monthly["月份"].iloc[-1] == "2026-10"
    counted = dict(query(sample_db_url, "SELECT strftime('%Y-%m', datetime(c.author_time, '+8 hours')) AS month, "
                                        f"COUNT(DISTINCT c.sha) {COUNTED} GROUP BY month", slug=SLUG, end=END))
    assert list(monthly["提交数（镜像去重，不含机器人与合并）"]) == [counted.get(m, 0) for m in monthly["月份"]]
    assert sum(monthly["提交数（镜像去重，不含机器人与合并）"]) > 0


def test_the_mirror_overlap_of_each_repository_is_worked_out_here(page):
    sample_db_url, at = page
    from collector import registry

    shown = table(at, "镜像重合")
    every = query(sample_db_url, "SELECT r.platform, r.path, c.sha FROM commits c "
                                 "JOIN repositories r ON r.id = c.repository_id "
                                 "JOIN community_repositories l ON l.repository_id = r.id "
                                 "JOIN communities m ON m.id = l.community_id WHERE m.slug = :slug", slug=SLUG)
    shas: dict[tuple, set] = {}
    for platform, path, sha in every:
        shas.setdefault((platform, path), set()).add(sha)
    counted = query(sample_db_url, "SELECT r.platform, r.path, c.sha "
                                   + COUNTED.replace("FROM commits c", "FROM commits c JOIN repositories r "
                                                                       "ON r.id = c.repository_id"),
                    slug=SLUG, end=END)
    tally: dict[tuple, list[int]] = {}
    for platform, path, sha in counted:
        elsewhere = any(sha in other for repo, other in shas.items() if repo != (platform, path))
        tally.setdefault((registry.label(platform), path), [0, 0])
        tally[(registry.label(platform), path)][0] += 1
        tally[(registry.label(platform), path)][1] += elsewhere
    expected = {repo: f"{mirrored / n * 100:.1f}%" for repo, (n, mirrored) in tally.items()}
    got = dict(zip(zip(shown["平台"], shown["仓库"]), shown["镜像重合"]))
    assert len(got) == len(shas) and got == expected
    assert sorted(expected.values()).count("100.0%") == 2 and "0.0%" in expected.values()  # the mirror pair


def test_e_mails_are_masked(page):
    sample_db_url, at = page
    shown = table(at, "邮箱（已隐去）")
    raw = {e for (e,) in query(sample_db_url, "SELECT DISTINCT email FROM commit_identities WHERE email LIKE '%@%'")}
    rendered = " ".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    rendered += " ".join(e.value for e in [*at.markdown, *at.caption, *at.header, *at.info] if isinstance(e.value, str))
    assert raw and not [e for e in raw if e in rendered]
    assert all("***@" in e for e in shown["邮箱（已隐去）"])


def test_contributors_page_in_the_database(monkeypatch, sample_db_url):
    at = open_detail(monkeypatch, sample_db_url)
    first = table(at, "邮箱（已隐去）")
    assert list(first["名次"]) == list(range(1, 21))
    total = query(sample_db_url, f"SELECT COUNT(DISTINCT COALESCE(i.person_id, -i.id)) {COUNTED} "
                                 "AND c.author_time >= '2025-10-31 16:00:00'", slug=SLUG, end=END)[0][0]
    assert total > 20 and f"共 {total} 位贡献者（不含机器人）。" in [c.value for c in at.caption]
    at.session_state[f"contributors:{SLUG}"] = 2
    at.run()
    second = table(at, "邮箱（已隐去）")
    assert list(second["名次"]) == list(range(21, total + 1))
    assert not set(second["姓名"]) & set(first["姓名"])


def test_an_enterprise_user_is_refused_the_page_and_the_figures(monkeypatch, sample_db_url):
    from tracker.metrics import detail
    from views.pages import allowed, refused

    with dbm.get_engine(sample_db_url).connect() as conn:
        enterprise = conn.exec_driver_sql("SELECT id FROM enterprises ORDER BY id LIMIT 1").scalar()
    actor = Actor("enterprise", "enterprise", enterprise)
    assert "community" not in [p.url_path for p in allowed("enterprise")]
    assert "community" in [p.url_path for p in refused("enterprise")]
    at = run(monkeypatch, sample_db_url, actor)
    at.switch_page("views/refused.py").run()
    assert at.title[0].value == "无权访问" and not at.dataframe
    as_of = dt.date.fromisoformat(AS_OF)
    with dbm.session_scope(sample_db_url) as s:
        for call in (lambda: detail.community_choices(s, actor),
                     lambda: detail.explain(s, actor, SLUG, "mantianxing", CONFIG, as_of=as_of),
                     lambda: detail.monthly_activity(s, actor, SLUG, as_of),
                     lambda: detail.repositories(s, actor, SLUG, as_of),
                     lambda: detail.organisations(s, actor, SLUG, as_of),
                     lambda: detail.top_contributors(s, actor, SLUG, as_of)):
            with pytest.raises(AccessDenied):
                call()
