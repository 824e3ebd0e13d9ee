"""数据采集 through the app (AppTest): the last run of each repository as `mtx status` reports it, failures first,
paging, per-community freshness; an enterprise user is refused."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text

from collector import registry
from tests.app.test_ranking import CONFIG, run
from tracker import db as dbm
from tracker.access import Actor
from tracker.cli import main
from tracker.models import CollectionResult, CollectionRun

PAGE = "views/collection.py"
UTC = dt.timezone.utc
RUN2 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
ERROR = "HTTPError: 502 Bad Gateway"


def sql(url: str, query: str, **params) -> list:
    with dbm.get_engine(url).connect() as conn:
        return conn.execute(text(query), params).all()


@pytest.fixture
def troubled(sample_db_url):
    """The sample (one ok run for every repository) plus a second run: `failed` failed, `deadline` stopped at the
    deadline, `fresh` collected ok again; `never` loses its results (never collected). Four different communities."""
    picks = sql(sample_db_url, "SELECT MIN(cr.repository_id) FROM community_repositories cr "
                               "JOIN communities c ON c.id = cr.community_id GROUP BY c.slug ORDER BY c.slug LIMIT 4")
    failed, never, deadline, fresh = (r[0] for r in picks)
    with dbm.session_scope(sample_db_url) as s:
        s.query(CollectionResult).filter(CollectionResult.repository_id == never).delete()
        second = CollectionRun(started_at=RUN2 - dt.timedelta(minutes=30), finished_at=RUN2, status="partial",
                               error=f"one repository failed: {ERROR}")
        s.add(second)
        s.flush()
        s.add_all([
            CollectionResult(run_id=second.id, repository_id=failed, status="failed", items={}, requests=7,
                             not_modified=2, rate_limit_waits=1, wait_seconds=30.0, error=ERROR, finished_at=RUN2),
            CollectionResult(run_id=second.id, repository_id=deadline, status="deadline", items={"commits": 2},
                             requests=3, not_modified=0, finished_at=RUN2),
            CollectionResult(run_id=second.id, repository_id=fresh, status="ok", items={"commits": 3, "issues": 1},
                             requests=5, not_modified=4, finished_at=RUN2)])
    dbm.dispose_engine(sample_db_url)
    return sample_db_url, {"failed": failed, "never": never, "deadline": deadline, "fresh": fresh}


def expected_order(url: str, ids: dict) -> list[tuple[str, str]]:
    """Failed first, then never collected, then the rest by platform and path; the freshly collected one last
    (its last complete collection is the newest)."""
    rows = sql(url, "SELECT platform, path FROM repositories ORDER BY CASE id WHEN :failed THEN 0 WHEN :never THEN 1 "
                    "WHEN :fresh THEN 3 ELSE 2 END, platform, path, id",
               failed=ids["failed"], never=ids["never"], fresh=ids["fresh"])
    return [(registry.label(platform), path) for platform, path in rows]


def path_of(url: str, repository_id: int) -> str:
    return sql(url, "SELECT path FROM repositories WHERE id = :id", id=repository_id)[0][0]


def community_of(url: str, repository_id: int) -> str:
    return sql(url, "SELECT c.slug FROM communities c JOIN community_repositories cr ON cr.community_id = c.id "
                    "WHERE cr.repository_id = :id", id=repository_id)[0][0]


def shown(at, index=0) -> list[tuple[str, str]]:
    table = at.dataframe[index].value
    return list(zip(table["平台"], table["仓库"]))


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def select(at, label: str, value):
    next(box for box in at.selectbox if box.label == label).set_value(value).run()
    assert not at.exception, at.exception


def test_an_administrator_sees_the_failed_repository_first_with_its_figures(monkeypatch, troubled):
    url, ids = troubled
    at = run(monkeypatch, url, Actor("admin", "admin"), PAGE)
    assert at.title[0].value == "数据采集"
    assert metrics(at)["仓库"] == str(sql(url, "SELECT COUNT(*) FROM repositories")[0][0])
    assert metrics(at)["失败"] == "1" and metrics(at)["从未采集"] == "1"
    assert "部分完成" in at.caption[0].value and ERROR in at.warning[0].value  # the last run and its error
    table = at.dataframe[0].value
    first = table.iloc[0]
    assert (first["仓库"], first["上次采集"], first["请求数"], first["304（未变化）"], first["限流等待（次）"],
            first["等待（秒）"], first["错误"]) == (path_of(url, ids["failed"]), "失败", "7", "2", "1", "30", ERROR)
    assert first["结束于"] == "2026-11-02 10:00 北京时间"
    never = table.iloc[1]
    assert (never["上次采集"], never["请求数"], never["写入条目"], never["结束于"]) == ("从未采集", "—", "—", "—")
    assert shown(at) == expected_order(url, ids)  # 42 repositories: one page of 50


def test_an_evaluator_sees_a_community_as_mtx_status_reports_it(monkeypatch, troubled, capsys):
    url, ids = troubled
    slug = community_of(url, ids["fresh"])
    at = run(monkeypatch, url, Actor("evaluator", "evaluator"), PAGE)
    select(at, "社区", slug)
    table = at.dataframe[0].value
    capsys.readouterr()
    assert main(["--db", url, "--config", str(CONFIG), "status", "--community", slug, "--json"]) == 0
    reported = {(r["platform"], r["path"]): r["last_run"] for r in json.loads(capsys.readouterr().out)}
    assert len(table) == len(reported) >= 2
    for row in table.to_dict("records"):
        platform = next(p for p, path in reported if path == row["仓库"] and registry.label(p) == row["平台"])
        last = reported[(platform, row["仓库"])]
        assert (row["上次采集"], row["请求数"], row["304（未变化）"]) == (
            {"ok": "完成"}[last["status"]], str(last["requests"]), str(last["not_modified"]))
    fresh = table[table["仓库"] == path_of(url, ids["fresh"])].iloc[0]
    assert (fresh["写入条目"], fresh["条目明细"]) == ("4", "提交 3 · Issue 1")
    assert list(table["仓库"])[-1] == fresh["仓库"]  # collected most recently: last


def test_page_two_shows_the_next_rows(monkeypatch, troubled):
    url, ids = troubled
    at = run(monkeypatch, url, Actor("admin", "admin"), PAGE)
    select(at, "每页", 20)
    order = expected_order(url, ids)
    assert shown(at) == order[:20] and at.pagination[0].num_pages == 3
    at.pagination[0].select(2).run()
    assert shown(at) == order[20:40]
    assert any(c.value.startswith(f"共 {len(order)} 个仓库，第 21–40 个") for c in at.caption)
    at.pagination[0].select(3).run()
    assert shown(at) == order[40:]


def test_the_status_filter_shows_only_failures(monkeypatch, troubled):
    url, ids = troubled
    at = run(monkeypatch, url, Actor("admin", "admin"), PAGE)
    select(at, "上次采集状态", "failed")
    assert list(at.dataframe[0].value["上次采集"]) == ["失败"]
    select(at, "上次采集状态", "never")
    assert list(at.dataframe[0].value["仓库"]) == [path_of(url, ids["never"])]


def test_community_freshness_puts_the_troubled_communities_first(monkeypatch, troubled):
    url, ids = troubled
    at = run(monkeypatch, url, Actor("admin", "admin"), PAGE)
    fresh = at.dataframe[1].value
    assert len(fresh) == sql(url, "SELECT COUNT(*) FROM communities")[0][0]
    never, failed = fresh.iloc[0], fresh.iloc[1]  # both in trouble; the one never complete has no freshness
    assert (never["代号"], never["从未完整采集"], never["全部仓库完整采集截至"]) == (community_of(url, ids["never"]), 1, "—")
    assert (failed["代号"], failed["失败"], failed["全部仓库完整采集截至"]) == (
        community_of(url, ids["failed"]), 1, "2026-11-01 01:00 北京时间")  # its first run, the sample's, was complete
    deadline = fresh[fresh["代号"] == community_of(url, ids["deadline"])].iloc[0]
    assert deadline["未采完"] == 1 and deadline["失败"] == 0


def test_an_enterprise_user_has_no_collection_page_and_its_address_is_refused(monkeypatch, troubled):
    url, _ = troubled
    enterprise = sql(url, "SELECT id FROM enterprises ORDER BY id LIMIT 1")[0][0]
    at = run(monkeypatch, url, Actor("enterprise", "enterprise", enterprise))
    with pytest.raises(ValueError):
        at.switch_page(PAGE)  # not in an enterprise user's navigation
    at.switch_page("views/refused.py").run()
    assert at.title[0].value == "无权访问" and "不能查看此页面" in at.error[0].value
    assert not at.dataframe
