"""Signing in through the login page: failures are counted and committed, attempts slowed, accounts locked; an open
session ends when its account is disabled, removed or changed. Time comes from the `clock` fixture, never a sleep."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.models import Enterprise
from tracker.users import create_user

PASSWORD = "correct-horse-battery"
WRONG = "wrong-password"
WRONG_MESSAGE = "用户名或密码错误"

pytestmark = pytest.mark.postgres


@pytest.fixture
def accounts(db_url):
    """An evaluator and an enterprise user (two enterprises, so one can be moved), committed."""
    with dbm.session_scope(db_url) as s:
        ours = Enterprise(name="示例甲科技（虚构）", uscc="91500000MA5U000001")
        theirs = Enterprise(name="示例乙软件（虚构）", uscc="91500000MA5U000002")
        s.add_all([ours, theirs])
        s.flush()
        create_user(s, SYSTEM, "expert", "evaluator", PASSWORD)
        create_user(s, SYSTEM, "entA", "enterprise", PASSWORD, ours.uscc)
    return db_url


def sql(url: str, statement: str, **params):
    with dbm.get_engine(url).begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else None


def open_app(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("MTX_DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def submit(at: AppTest, username: str, password: str) -> str | None:
    """Fill the login form and press 登录; the error shown, or None when the overview opened."""
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    if signed_in(at):
        return None
    assert len(at.error) == 1, [e.value for e in at.error]
    return at.error[0].value


def signed_in(at: AppTest) -> bool:
    return any(t.value == "总览" for t in at.title)


def throttled(seconds: int) -> str:
    return f"登录尝试过多，请 {seconds} 秒后再试"


def test_five_wrong_passwords_lock_the_account_for_15_minutes(monkeypatch, accounts, clock):
    at = open_app(monkeypatch, accounts)
    for _ in range(5):
        assert submit(at, "expert", WRONG) == WRONG_MESSAGE
        clock.advance(30)  # past any per-attempt delay
    fifth_failure = clock.now - dt.timedelta(seconds=30)
    (failures, locked_until), = sql(accounts, "SELECT failed_logins, locked_until FROM users WHERE username = 'expert'")
    assert failures == 5
    assert locked_until is not None

    # the right password is refused while the lock lasts: 15 minutes from the fifth failure
    assert submit(at, "expert", PASSWORD) == throttled(15 * 60 - 30)
    clock.advance(15 * 60 - 30 - 1)
    assert submit(at, "expert", PASSWORD) == throttled(1)
    assert clock.now < fifth_failure + dt.timedelta(minutes=15)
    clock.advance(1)
    assert submit(at, "expert", PASSWORD) is None
    assert sql(accounts, "SELECT failed_logins FROM users WHERE username = 'expert'") == [(0,)]


def test_each_failure_delays_the_next_attempt_for_that_name(monkeypatch, accounts, clock):
    at = open_app(monkeypatch, accounts)
    assert submit(at, "expert", WRONG) == WRONG_MESSAGE
    # 1 failure: the next attempt waits 2^0 = 1 s, even with the right password; the wait is not a failure
    assert submit(at, "expert", PASSWORD) == throttled(1)
    clock.advance(1)
    assert submit(at, "expert", WRONG) == WRONG_MESSAGE
    # 2 failures: 2 s; 3 failures: 4 s; 4 failures: 8 s
    clock.advance(1.5)
    assert submit(at, "expert", PASSWORD) == throttled(1)
    clock.advance(0.5)
    assert submit(at, "expert", WRONG) == WRONG_MESSAGE
    assert submit(at, "expert", PASSWORD) == throttled(4)
    clock.advance(4)
    assert submit(at, "expert", WRONG) == WRONG_MESSAGE
    assert submit(at, "expert", PASSWORD) == throttled(8)
    # another name is not slowed by expert's failures
    assert submit(at, "entA", PASSWORD) is None


def test_after_the_delay_the_right_password_signs_in_and_clears_the_count(monkeypatch, accounts, clock):
    at = open_app(monkeypatch, accounts)
    assert submit(at, "expert", WRONG) == WRONG_MESSAGE
    clock.advance(1)
    assert submit(at, "expert", PASSWORD) is None
    assert sql(accounts, "SELECT failed_logins FROM users WHERE username = 'expert'") == [(0,)]


def test_unknown_names_get_the_same_answers_as_wrong_passwords_and_no_row(monkeypatch, accounts, clock):
    def attempts(username: str) -> list[str | None]:
        at = open_app(monkeypatch, accounts)
        shown = [submit(at, username, WRONG), submit(at, username, WRONG)]
        clock.advance(1)
        shown += [submit(at, username, WRONG), submit(at, username, WRONG)]
        return shown

    known, unknown = attempts("expert"), attempts("nobody-here")
    assert known == unknown == [WRONG_MESSAGE, throttled(1), WRONG_MESSAGE, throttled(2)]
    assert sql(accounts, "SELECT COUNT(*) FROM users") == [(2,)]


def test_the_username_is_matched_after_normalising(monkeypatch, accounts, clock):
    at = open_app(monkeypatch, accounts)
    assert submit(at, " ＥＮＴ\u200ba ", PASSWORD) is None  # full-width, zero-width space, other case, spaces
    assert "entA" in " ".join(c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("change", [
    "UPDATE users SET is_active = false WHERE username = 'entA'",
    "DELETE FROM users WHERE username = 'entA'",
    "UPDATE users SET role = 'evaluator', enterprise_id = NULL WHERE username = 'entA'",
    "UPDATE users SET enterprise_id = (SELECT MAX(id) FROM enterprises) WHERE username = 'entA'",
], ids=["deactivated", "removed", "role-changed", "enterprise-changed"])
def test_an_open_session_ends_on_the_next_page_run_when_the_account_changes(monkeypatch, accounts, clock, change):
    at = open_app(monkeypatch, accounts)
    assert submit(at, "entA", PASSWORD) is None
    at.run()
    assert signed_in(at)  # unchanged account: still signed in

    sql(accounts, change)
    at.run()
    assert not at.exception, at.exception
    assert not signed_in(at)
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert "actor" not in at.session_state
    assert any("请重新登录" in w.value for w in at.warning)
