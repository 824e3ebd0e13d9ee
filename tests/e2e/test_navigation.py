"""The menu and the addresses each role gets, in a real browser; the ranking as `mtx score` ranks; a screenshot of
every page of every role (artifacts/e2e/<role>-<page>.png), from the one table of pages, so new pages are covered."""
from __future__ import annotations

import json

import pytest

from tests.e2e import browser as web
from tracker.cli import main
from tracker.cli.sample import DEMO_ACCOUNTS
from views.pages import PAGES, allowed, refused

pytestmark = pytest.mark.e2e
PASSWORDS = {username: password for username, _, password in DEMO_ACCOUNTS}
AS_OF = "2026-10-31"  # the sample's last day, which the ranking page suggests for it


def mtx_ranked(db_url: str, capsys) -> list[dict]:
    """What `mtx score` ranks, in order (the ranked communities only)."""
    capsys.readouterr()
    assert main(["--db", db_url, "--config", str(web.CONFIG), "score", "--as-of", AS_OF, "--json"]) == 0
    return [r for r in json.loads(capsys.readouterr().out)["results"] if r["status"] == "ranked"]


def test_the_enterprise_menu_has_no_ranking_and_its_address_is_refused(browser, app_server, capsys):
    """The refusal is tested by address inside the signed-in session (`web.open_page`: history.pushState and a
    popstate event, which Streamlit answers in the same session). A full load of /ranking would start a new, signed-out
    session and show the sign-in page, whatever the role — checked first, so that it is not mistaken for a refusal."""
    ranked = mtx_ranked(app_server.db_url, capsys)
    assert ranked, "the sample ranks no community: nothing to look for"

    web.load(browser, app_server.base, "/ranking")
    assert web.headings(browser) == ["满天星 Tracker"] and "社区排名" not in web.page_text(browser)

    web.sign_in(browser, app_server.base, "enterprise", PASSWORDS["enterprise"])
    assert "社区排名" not in web.menu_titles(browser)
    assert web.menu_titles(browser) == [p.title for p in allowed("enterprise")]

    web.open_page(browser, app_server.base, "ranking")
    assert web.headings(browser) == ["无权访问"]
    assert any("不能查看此页面" in a for a in web.alerts(browser))
    text = web.page_text(browser)
    assert not browser.find_elements("css selector", "[data-testid='stDataFrame']")
    assert "评分模型" not in text and "得分" not in text
    assert not [r["name"] for r in ranked if r["name"] in text]  # no community of the ranking, by code
    web.screenshot(browser, "enterprise-ranking-by-address")


def test_an_evaluator_sees_the_ranking_as_mtx_score_ranks(browser, app_server, capsys):
    ranked = mtx_ranked(app_server.db_url, capsys)
    web.sign_in(browser, app_server.base, "evaluator", PASSWORDS["evaluator"])
    web.click_menu(browser, "社区排名")
    assert web.headings(browser) == ["社区排名"]
    web.wait_for_text(browser, f"截至 {AS_OF}")  # the page ranks as of the same day as the command
    rows = web.dataframe_rows(browser)
    assert rows[0]["排名"] == "1"
    assert rows[0]["代号"] == ranked[0]["name"]
    assert [r["代号"] for r in rows] == [r["name"] for r in ranked][:len(rows)]
    assert [float(r["得分"]) for r in rows] == pytest.approx([r["score"] for r in ranked][:len(rows)], abs=0.01)
    web.screenshot(browser, "evaluator-ranking-table")


@pytest.mark.parametrize("username,role", [(u, r) for u, r, _ in DEMO_ACCOUNTS])
def test_every_page_of_the_role_opens_from_the_menu_and_every_other_is_refused(browser, app_server, username, role):
    web.sign_in(browser, app_server.base, username, PASSWORDS[username])
    assert web.menu_titles(browser) == [p.title for p in allowed(role)]
    for page in allowed(role):
        web.click_menu(browser, page.title)
        assert not web.exceptions(browser), (page.url_path, web.exceptions(browser))
        assert web.current_menu_title(browser) == page.title
        web.screenshot(browser, f"{role}-{page.url_path}")
    for page in refused(role):
        web.open_page(browser, app_server.base, page.url_path)
        assert web.headings(browser) == ["无权访问"], page.url_path
        web.screenshot(browser, f"{role}-{page.url_path}-refused")
    assert {p.url_path for p in allowed(role)} | {p.url_path for p in refused(role)} == {p.url_path for p in PAGES}
