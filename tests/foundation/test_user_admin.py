"""Administering accounts through `mtx users ...` (tracker.user_admin, which the 用户管理 page calls too): a reset gives
a one-time password that signs in once and must be changed; unlock lifts a lockout; deactivate and activate; an
evaluator linked to its organisation; administrators only, every change audited without a password, nothing written
when refused."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import text

from tracker import db as dbm
from tracker.access import AccessDenied, SYSTEM, Actor
from tracker.cli import main
from tracker.models import Enterprise, Organisation
from tracker.user_admin import ONE_TIME_ALPHABET, ONE_TIME_LENGTH, UserAdminError, one_time_password, user_table
from tracker.users import MAX_FAILED, authenticate, change_own_password, check_session, create_user

pytestmark = pytest.mark.postgres

PASSWORD = "correct-horse-battery"
USCC = "91500000MA5U000001"
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def accounts(db_url):
    """Two administrators (boss, deputy), an evaluator, an enterprise user; one enterprise, one organisation."""
    with dbm.session_scope(db_url) as s:
        s.add(Enterprise(name="示例甲科技（虚构）", uscc=USCC))
        s.add(Organisation(name="重庆大学", kind="university"))
        s.flush()
        for name, role in (("boss", "admin"), ("deputy", "admin"), ("expert", "evaluator")):
            create_user(s, SYSTEM, name, role, PASSWORD)
        create_user(s, SYSTEM, "entA", "enterprise", PASSWORD, USCC)
    return db_url


def sql(url: str, statement: str, **params):
    with dbm.get_engine(url).begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else None


def mtx(url: str, capsys, *argv: str, who: str = "boss") -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", url, "--as", who, "users", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def audit_rows(url: str, action: str) -> list[tuple]:
    return sql(url, "SELECT actor, actor_role, entity, entity_key, before, after FROM audit_log WHERE action = :a "
                    "ORDER BY id", a=action)


def signs_in(url: str, username: str, password: str, now: dt.datetime = NOW) -> bool:
    try:
        return authenticate(url, username, password, now=now).name == username
    except AccessDenied:
        return False


def test_one_time_passwords_are_long_random_and_unambiguous():
    made = {one_time_password() for _ in range(200)}
    assert len(made) == 200
    assert all(len(p) == ONE_TIME_LENGTH and set(p) <= set(ONE_TIME_ALPHABET) for p in made)
    assert not set("0O1lI") & set(ONE_TIME_ALPHABET)


def test_reset_password_prints_a_one_time_password_that_must_be_changed(accounts, capsys):
    code, out, err = mtx(accounts, capsys, "reset-password", "expert")
    assert code == 0, err
    password = re.search(r"one-time password for expert: (\S+)", out).group(1)
    assert len(password) == ONE_TIME_LENGTH
    assert not signs_in(accounts, "expert", PASSWORD)
    assert signs_in(accounts, "expert", password, NOW + dt.timedelta(minutes=1))
    assert sql(accounts, "SELECT must_change_password FROM users WHERE username = 'expert'")[0][0] in (True, 1)
    with dbm.session_scope(accounts) as s:
        assert check_session(s, Actor("expert", "evaluator")).must_change_password
        change_own_password(s, Actor("expert", "evaluator"), password, "a-new-password-1", "a-new-password-1")
    with dbm.session_scope(accounts) as s:
        assert not check_session(s, Actor("expert", "evaluator")).must_change_password
    (entry,) = audit_rows(accounts, "user.password_reset")
    assert entry[:4] == ("boss", "admin", "user", "expert")
    assert password not in json.dumps([r[4:] for r in sql(accounts, "SELECT * FROM audit_log")], default=str)


def test_a_reset_lifts_a_lockout(accounts, capsys):
    for n in range(MAX_FAILED):  # a minute apart: each after the delay the one before imposes
        signs_in(accounts, "expert", "wrong", NOW + dt.timedelta(minutes=n))
    assert sql(accounts, "SELECT locked_until FROM users WHERE username = 'expert'")[0][0] is not None
    code, out, _ = mtx(accounts, capsys, "reset-password", "EXPERT")  # matched as sign-in matches names
    assert code == 0
    password = re.search(r"one-time password for expert: (\S+)", out).group(1)
    assert sql(accounts, "SELECT failed_logins, locked_until FROM users WHERE username = 'expert'") == [(0, None)]
    assert signs_in(accounts, "expert", password, NOW + dt.timedelta(minutes=MAX_FAILED))  # inside the old lock


def test_unlock_clears_the_lockout_so_the_right_password_signs_in_at_once(accounts, capsys):
    locked_at = NOW
    for n in range(MAX_FAILED):
        signs_in(accounts, "expert", "wrong", locked_at + dt.timedelta(seconds=60 * n))
    later = locked_at + dt.timedelta(minutes=6)  # inside the 15-minute lock
    assert not signs_in(accounts, "expert", PASSWORD, later)
    failures = sql(accounts, "SELECT failed_logins FROM users WHERE username = 'expert'")[0][0]
    assert failures == MAX_FAILED

    code, out, err = mtx(accounts, capsys, "unlock", "expert")
    assert code == 0 and "unlocked expert" in out, err
    assert sql(accounts, "SELECT failed_logins, locked_until, last_failed_login_at FROM users "
                         "WHERE username = 'expert'") == [(0, None, None)]
    assert signs_in(accounts, "expert", PASSWORD, later)
    (entry,) = audit_rows(accounts, "user.unlock")
    before = entry[4] if isinstance(entry[4], dict) else json.loads(entry[4])
    assert entry[0] == "boss" and before["failed_logins"] == MAX_FAILED

    code, _, err = mtx(accounts, capsys, "unlock", "expert")
    assert code == 1 and "无需解锁" in err


def test_deactivate_stops_sign_in_and_activate_restores_it(accounts, capsys):
    code, out, err = mtx(accounts, capsys, "deactivate", "entA")
    assert code == 0 and "deactivated entA" in out, err
    assert not signs_in(accounts, "entA", PASSWORD)
    with dbm.session_scope(accounts) as s:
        enterprise = s.scalar(text("SELECT id FROM enterprises"))
        assert check_session(s, Actor("entA", "enterprise", enterprise)).actor is None
    code, _, err = mtx(accounts, capsys, "deactivate", "entA")
    assert code == 1 and "已是停用状态" in err
    code, out, _ = mtx(accounts, capsys, "activate", "entA")
    assert code == 0 and "activated entA" in out
    assert signs_in(accounts, "entA", PASSWORD, NOW + dt.timedelta(minutes=1))
    assert [(r[0], r[3]) for r in audit_rows(accounts, "user.deactivate") + audit_rows(accounts, "user.activate")] \
        == [("boss", "entA"), ("boss", "entA")]


def test_no_administrator_deactivates_itself_or_the_last_active_administrator(accounts, capsys):
    code, _, err = mtx(accounts, capsys, "deactivate", "boss")
    assert code == 1 and "不能停用自己的账号" in err
    assert mtx(accounts, capsys, "deactivate", "deputy")[0] == 0
    code, _, err = mtx(accounts, capsys, "deactivate", "boss", who="someone-at-the-shell")
    assert code == 1 and "最后一位启用的管理员" in err
    assert sql(accounts, "SELECT username FROM users WHERE is_active = :t AND role = 'admin'", t=True) == [("boss",)]


@pytest.mark.parametrize("command", [["reset-password", "expert"], ["unlock", "expert"], ["deactivate", "entA"],
                                     ["activate", "entA"],
                                     ["add", "newbie", "--role", "evaluator", "--password-env", "MTX_NEW_PASSWORD"]])
@pytest.mark.parametrize("who", ["expert", "entA"])
def test_only_administrators_administer_accounts(accounts, capsys, monkeypatch, command, who):
    monkeypatch.setenv("MTX_NEW_PASSWORD", PASSWORD)
    sql(accounts, "UPDATE users SET failed_logins = 1 WHERE username = 'expert'")
    before = sql(accounts, "SELECT * FROM users ORDER BY id")
    audits = sql(accounts, "SELECT count(*) FROM audit_log")
    code, _, err = mtx(accounts, capsys, *command, who=who)
    assert code == 1 and "无权执行此操作" in err
    assert sql(accounts, "SELECT * FROM users ORDER BY id") == before
    assert sql(accounts, "SELECT count(*) FROM audit_log") == audits


def test_an_unknown_user_is_named_in_the_refusal(accounts, capsys):
    for command in ("reset-password", "unlock", "deactivate", "activate"):
        code, _, err = mtx(accounts, capsys, command, "nobody")
        assert code == 1 and "没有用户 nobody" in err and "mtx users list" in err


def test_an_evaluator_is_added_with_its_organisation(accounts, capsys, monkeypatch):
    monkeypatch.setenv("MTX_NEW_PASSWORD", PASSWORD)
    code, out, err = mtx(accounts, capsys, "add", "prof", "--role", "evaluator", "--organisation", "重庆大学",
                         "--password-env", "MTX_NEW_PASSWORD")
    assert code == 0 and "added user prof (evaluator), 重庆大学" in out, err
    assert sql(accounts, "SELECT o.name, u.must_change_password FROM users u JOIN organisations o "
                         "ON o.id = u.organisation_id WHERE u.username = 'prof'") in ([("重庆大学", False)],
                                                                                    [("重庆大学", 0)])
    assert signs_in(accounts, "prof", PASSWORD)


@pytest.mark.parametrize("argv, message", [
    (["add", "x1", "--role", "evaluator", "--organisation", "没有这个大学"], "没有组织 没有这个大学"),
    (["add", "x2", "--role", "enterprise", "--enterprise", USCC, "--organisation", "重庆大学"], "只有评审专家关联所属组织"),
    (["add", "x3", "--role", "enterprise"], "企业用户须填写所属企业的统一社会信用代码"),
    (["add", "x4", "--role", "enterprise", "--enterprise", "91500000MA5U00000X"], "企业 91500000MA5U00000X 不存在"),
])
def test_a_bad_addition_is_refused_and_writes_nothing(accounts, capsys, monkeypatch, argv, message):
    monkeypatch.setenv("MTX_NEW_PASSWORD", PASSWORD)
    users = sql(accounts, "SELECT count(*) FROM users")
    code, _, err = mtx(accounts, capsys, *argv, "--password-env", "MTX_NEW_PASSWORD")
    assert code == 1 and message in err, err
    assert sql(accounts, "SELECT count(*) FROM users") == users


def test_the_user_table_shows_what_the_database_holds(accounts):
    with dbm.session_scope(accounts) as s:
        from tracker.user_admin import set_organisation

        set_organisation(s, Actor("boss", "admin"), "expert", "重庆大学")
    for n in range(MAX_FAILED):
        signs_in(accounts, "entA", "wrong", NOW + dt.timedelta(seconds=60 * n))
    signs_in(accounts, "deputy", PASSWORD, NOW)
    with dbm.session_scope(accounts) as s:
        rows = {r["username"]: r for r in user_table(s, Actor("boss", "admin"), now=NOW + dt.timedelta(minutes=5))}
        with pytest.raises(AccessDenied):
            user_table(s, Actor("expert", "evaluator"))
        with pytest.raises(UserAdminError, match="只有评审专家"):
            set_organisation(s, Actor("boss", "admin"), "entA", "重庆大学")
    expected = {u: (role, org) for u, role, org in sql(accounts, """SELECT u.username, u.role, o.name FROM users u
        LEFT JOIN organisations o ON o.id = u.organisation_id""")}
    assert {u: (r["role"], r["organisation"]) for u, r in rows.items()} == expected
    assert rows["entA"]["enterprise"] == "示例甲科技（虚构）" and rows["entA"]["uscc"] == USCC
    assert rows["entA"]["locked"] and rows["entA"]["failed_logins"] == MAX_FAILED
    assert not rows["expert"]["locked"] and rows["expert"]["active"]
    assert rows["deputy"]["last_sign_in_at"] == NOW and rows["boss"]["last_sign_in_at"] is None
    (entry,) = audit_rows(accounts, "user.set_organisation")
    after = entry[5] if isinstance(entry[5], dict) else json.loads(entry[5])
    assert entry[0] == "boss" and after == {"organisation": "重庆大学"}


def test_users_list_shows_lock_password_change_organisation_and_last_sign_in(accounts, capsys):
    now = dt.datetime.now(dt.timezone.utc)
    for n in range(MAX_FAILED):  # locked now, in real time: the command reads the clock
        signs_in(accounts, "entA", "wrong", now - dt.timedelta(minutes=MAX_FAILED - n))  # each after the delay
    assert mtx(accounts, capsys, "reset-password", "expert")[0] == 0
    assert mtx(accounts, capsys, "deactivate", "deputy")[0] == 0
    signs_in(accounts, "boss", PASSWORD, now)
    with dbm.session_scope(accounts) as s:
        from tracker.user_admin import set_organisation

        set_organisation(s, Actor("boss", "admin"), "expert", "重庆大学")
    code, out, err = mtx(accounts, capsys, "list", "--json")
    assert code == 0, err
    rows = {r["username"]: r for r in json.loads(out)}
    locked_until = sql(accounts, "SELECT locked_until FROM users WHERE username = 'entA'")[0][0]
    assert rows["entA"]["locked"] and rows["entA"]["failed_logins"] == MAX_FAILED
    assert rows["entA"]["locked_until"][:19] == str(locked_until)[:19].replace(" ", "T")  # as stored (UTC)
    assert rows["entA"]["enterprise"] == "示例甲科技（虚构）" and rows["expert"]["organisation"] == "重庆大学"
    assert rows["expert"]["must_change_password"] and not rows["boss"]["must_change_password"]
    assert not rows["deputy"]["active"] and rows["boss"]["last_sign_in_at"] is not None
    code, out, _ = mtx(accounts, capsys, "list")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "locked 已锁定" in lines["entA"] and f"{MAX_FAILED} failed" in lines["entA"]
    assert "须改密码" in lines["expert"] and "重庆大学" in lines["expert"]
    assert "disabled 已停用" in lines["deputy"] and "最近登录" in lines["boss"] and "未登录" in lines["expert"]
