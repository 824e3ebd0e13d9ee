"""Signing in through the real login page: five wrong passwords lock the account, and the right one is then refused."""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from tests.e2e import browser as web
from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.models import User
from tracker.users import GENERIC_LOGIN_ERROR, create_user

pytestmark = pytest.mark.e2e
PASSWORD = "correct-horse-battery"
MAX_FAILED, LOCK_MINUTES = 5, 15  # the rule (tracker/users.py): every 5th consecutive failure locks for 15 minutes
THROTTLED = re.compile(r"^登录尝试过多，请 (\d+) 秒后再试$")


def account_row(url: str, username: str) -> User:
    with dbm.session_scope(url) as s:
        user = s.scalar(select(User).where(User.username == username))
        s.expunge(user)
        return user


def wait_out_the_delay(url: str, username: str) -> None:
    """Each failure delays the next attempt by 1, 2, 4, 8 s (tests/app/test_sign_in.py checks that with a fake clock);
    rather than sleep 15 s, the last failure is moved a minute into the past. The count and the lock are untouched."""
    with dbm.session_scope(url) as s:
        user = s.scalar(select(User).where(User.username == username))
        user.last_failed_login_at = user.last_failed_login_at - dt.timedelta(minutes=1)


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(browser, app_server):
    username = f"lock-{uuid.uuid4().hex[:8]}"  # its own account: a locked demo account would spoil other tests
    with dbm.session_scope(app_server.db_url) as s:
        create_user(s, SYSTEM, username, "evaluator", PASSWORD)

    web.load(browser, app_server.base, until=lambda b: b.find_elements("css selector", "[data-testid='stTextInput']"))
    for attempt in range(1, MAX_FAILED + 1):
        assert web.submit_sign_in(browser, username, "wrong-password") == GENERIC_LOGIN_ERROR[0]
        row = account_row(app_server.db_url, username)
        assert row.failed_logins == attempt
        if attempt < MAX_FAILED:
            assert row.locked_until is None
            wait_out_the_delay(app_server.db_url, username)
    locked_until = account_row(app_server.db_url, username).locked_until
    assert locked_until is not None
    web.screenshot(browser, "sign-in-fifth-failure")

    shown = web.submit_sign_in(browser, username, PASSWORD)
    assert shown is not None, "the right password signed in to a locked account"
    wait = THROTTLED.match(shown)
    assert wait, shown
    assert LOCK_MINUTES * 60 - 60 <= int(wait.group(1)) <= LOCK_MINUTES * 60  # the lock, not a per-attempt delay
    assert web.headings(browser) == ["满天星 Tracker"] and not web.menu_titles(browser)
    row = account_row(app_server.db_url, username)
    assert (row.failed_logins, row.locked_until) == (MAX_FAILED, locked_until)  # a refusal while locked is no failure
    web.screenshot(browser, "sign-in-locked")
