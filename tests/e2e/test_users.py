"""用户管理 in a real browser: an administrator resets a user's password, and that user, signing in with the one-time
password, must change it before anything else; an administrator deactivates a user signed in in a second browser,
whose next click signs them out."""
from __future__ import annotations

import shutil

import pytest

from tests.e2e import browser as web
from tests.e2e.test_people import choose, field, press
from tracker import db as dbm
from tracker.cli.sample import DEMO_ACCOUNTS

pytestmark = pytest.mark.e2e
PASSWORDS = {username: password for username, _, password in DEMO_ACCOUNTS}
NEW_PASSWORD = "my-own-new-password-1"
LOGIN_INPUTS = "[data-testid='stTextInput'] input"


@pytest.fixture(scope="module")
def users_app(chromium_available, demo_db, tmp_path_factory):
    """The app against a private copy of the demo database (the accounts changed here stay in this module)."""
    folder = tmp_path_factory.mktemp("users-e2e")
    path = folder / "users.db"
    shutil.copyfile(demo_db, path)
    url = f"sqlite:///{path}"
    server = web.AppServer(url, folder / "streamlit.log")
    yield server.base, url
    server.stop()
    dbm.dispose_engine(url)


def user_chooser(browser):
    boxes = [b for b in browser.find_elements("css selector", "[data-testid='stSelectbox']")
             if b.find_element("css selector", "label").text.strip() == "用户"]
    return boxes[0] if boxes else None


def open_user(browser, username: str) -> None:
    """用户管理 with `username` chosen below the table."""
    web.click_menu(browser, "用户管理", until=user_chooser)
    choose(browser, "用户", username)
    web.wait_until(browser, lambda b: (user_chooser(b).find_element("css selector", "input").get_attribute("value")
                                       or "").startswith(f"{username}（"),
                   message=f"{username} was not chosen")


def confirm(browser, label: str, done: str) -> None:
    press(browser, label, until=lambda b: b.find_elements("css selector", "[role='dialog'] button"))
    press(browser, "确认", within="[role='dialog']",
          until=lambda b: any(done in a for a in web.alerts(b)) or any("/" in a for a in web.alerts(b)))
    assert any(done in a for a in web.alerts(browser)), web.alerts(browser)


def test_a_reset_password_must_be_changed_before_anything_else(users_app, browser):
    base, _ = users_app
    web.sign_in(browser, base, "admin", PASSWORDS["admin"])
    open_user(browser, "evaluator")
    confirm(browser, "重置密码", "已为 evaluator 生成一次性密码")
    codes = browser.find_elements("css selector", "[data-testid='stCode'] code")
    assert len(codes) == 1
    password = codes[0].text.strip()
    assert len(password) == 16
    web.screenshot(browser, "admin-users-reset")

    web.forget_session(browser)
    web.load(browser, base, until=lambda b: b.find_elements("css selector", LOGIN_INPUTS))
    assert web.submit_sign_in(browser, "evaluator", PASSWORDS["evaluator"]) == "用户名或密码错误"  # the old one is gone
    web.forget_session(browser)
    web.load(browser, base, until=lambda b: b.find_elements("css selector", LOGIN_INPUTS))
    notice = web.submit_sign_in(browser, "evaluator", password)
    assert notice is None or "管理员已重置您的密码" in notice
    web.wait_for_text(browser, "管理员已重置您的密码")
    assert web.headings(browser) == ["修改密码"]
    assert set(web.menu_titles(browser)) <= {"修改密码"}
    web.open_page(browser, base, "ranking")  # another page's address: still 修改密码
    assert web.headings(browser) == ["修改密码"]
    web.screenshot(browser, "evaluator-must-change-password")

    field(browser, "当前密码").send_keys(password)
    field(browser, "新密码（至少 8 位）").send_keys(NEW_PASSWORD)
    field(browser, "再次输入新密码").send_keys(NEW_PASSWORD)
    press(browser, "保存", until=lambda b: "现在可以使用全部页面" in web.page_text(b))
    assert {"总览", "社区排名", "修改密码"} <= set(web.menu_titles(browser))
    web.click_menu(browser, "社区排名")
    assert web.headings(browser) == ["社区排名"]


def test_a_deactivated_user_signed_in_elsewhere_is_signed_out_by_the_next_click(users_app, browser):
    base, url = users_app
    other = web.new_driver()
    try:
        web.sign_in(other, base, "enterprise", PASSWORDS["enterprise"])
        web.click_menu(other, "我的奖励")

        web.sign_in(browser, base, "admin", PASSWORDS["admin"])
        open_user(browser, "enterprise")
        confirm(browser, "停用账号", "已停用 enterprise")

        links = [link for link in other.find_elements("css selector", web.NAV_LINK) if "总览" in link.text]
        web.run_and_wait(other, links[0].click,
                         until=lambda b: "请重新登录" in web.page_text(b) and b.find_elements("css selector", LOGIN_INPUTS))
        assert web.headings(other)[0] == "满天星 Tracker"
        assert not other.find_elements("css selector", web.NAV_LINK)
        web.screenshot(other, "enterprise-signed-out-after-deactivation")
    finally:
        other.quit()
