"""人员与组织 in a real browser: an administrator merges two people, and 社区详情 then shows their community one
contributor fewer, equal to `mtx metrics`. (Mapping a domain is tested through AppTest in tests/app/test_people_page.py;
its browser flow is still to be written.)"""
from __future__ import annotations

import shutil

import pytest

from tests.app.test_people_page import (AS_OF, COUNTED, people_db, signals,  # noqa: F401 (fixture)
                                        sql)
from tests.e2e import browser as web
from tracker import db as dbm
from tracker.cli.sample import DEMO_ACCOUNTS

pytestmark = pytest.mark.e2e
PASSWORDS = {username: password for username, _, password in DEMO_ACCOUNTS}


@pytest.fixture
def people_app(chromium_available, people_db, tmp_path):
    """The app against a private copy of the sample with one unverified organisation (changes stay in this test)."""
    from tracker.cli.sample import ensure_demo_accounts

    path = tmp_path / "people.db"
    shutil.copyfile(people_db, path)
    url = f"sqlite:///{path}"
    ensure_demo_accounts(url)
    dbm.dispose_engine(url)
    server = web.AppServer(url, tmp_path / "streamlit.log")
    yield server.base, url
    server.stop()
    dbm.dispose_engine(url)


def field(browser, label: str):
    return browser.find_element("css selector", f"input[aria-label='{label}']")


def press(browser, label: str, within: str = "[data-testid='stMain']", until=None) -> None:
    buttons = [b for b in browser.find_elements("css selector", f"{within} button") if b.text.strip() == label]
    assert buttons, f"no button {label!r}"
    web.run_and_wait(browser, buttons[0].click, until=until)


def choose(browser, label: str, option: str, runs: bool = True) -> None:
    """Pick `option` in the selectbox labelled `label` (typed into its search box, as a user filters a long list)."""
    from selenium.webdriver.common.keys import Keys

    box = next(b for b in browser.find_elements("css selector", "[data-testid='stSelectbox']")
               if b.find_element("css selector", "label").text.strip() == label)
    box.find_element("css selector", "input").click()
    typing = box.find_element("css selector", "input")
    typing.send_keys(option)
    if runs:
        web.run_and_wait(browser, lambda: typing.send_keys(Keys.ENTER))
    else:
        typing.send_keys(Keys.ENTER)


def confirm(browser, submit: str, done: str) -> None:
    """Press the form's button, then 确认 in the dialog; waits for the outcome `done` to be shown."""
    press(browser, submit, until=lambda b: b.find_elements("css selector", "[role='dialog'] button"))
    press(browser, "确认", within="[role='dialog']", until=lambda b: any(done in a for a in web.alerts(b))
          or any("/" in a for a in web.alerts(b)))
    assert any(done in a for a in web.alerts(browser)), web.alerts(browser)


def detail_signal(browser, community: str, signal: str) -> str:
    """The value 社区详情 shows for one signal of one community (as of AS_OF, the sample's last day)."""
    web.click_menu(browser, "社区详情")
    choose(browser, "社区", community)
    web.wait_for_text(browser, f"截至 {AS_OF}")
    rows = web.dataframe_rows(browser, 0)
    return next(r["值"] for r in rows if r["代号"] == signal)


def test_merging_two_people_shows_one_contributor_fewer_for_their_community(people_app, browser, capsys):
    from selenium.webdriver.common.keys import Keys

    base, url = people_app
    community = "hongtu-board"
    first, second = [p for (p,) in sql(url, f"""SELECT p.id FROM ({COUNTED}) p WHERE EXISTS (SELECT 1 FROM accounts a
        WHERE a.person_id = p.id AND a.login IS NOT NULL) ORDER BY p.id LIMIT 2""", community=community)]
    ref = sql(url, "SELECT platform || ':' || login FROM accounts WHERE person_id = :p AND login IS NOT NULL "
                   "ORDER BY platform, login LIMIT 1", p=first)[0][0]
    before = signals(url, capsys, community)["contributor_count"]
    web.sign_in(browser, base, "admin", PASSWORDS["admin"])
    assert detail_signal(browser, community, "contributor_count") == f"{before:g}"

    web.click_menu(browser, "人员与组织")
    search = field(browser, "搜索人员（姓名、账号或邮箱中包含）")
    search.send_keys(ref)
    web.run_and_wait(browser, lambda: search.send_keys(Keys.ENTER), until=lambda b: f"（编号 {first}）" in web.page_text(b))
    field(browser, "与之合并的另一人（编号、邮箱或 平台:登录名）").send_keys(str(second))
    browser.find_elements("css selector", "input[aria-label='原因（必填，记入审计日志）']")[0].send_keys("同一人")
    confirm(browser, "合并", "已合并")
    web.screenshot(browser, "admin-people-merged")

    after = signals(url, capsys, community)["contributor_count"]
    assert after == before - 1
    assert detail_signal(browser, community, "contributor_count") == f"{after:g}"
