"""用户管理 through the app (AppTest), on the demo database: administrators only; the table is the users table; a
reset shows a one-time password once, and the user signing in with it sees only 修改密码 until it is changed;
unlock, deactivate (an open session ends on its next run), add a user; each asked first and audited."""
from __future__ import annotations


import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tests.app.test_pages_by_role import actor_for
from tests.app.test_ranking import CONFIG, run
from tracker import db as dbm
from tracker.access import AccessDenied, Actor
from tracker.user_admin import ONE_TIME_LENGTH, reset_password, user_table
from tracker.users import MAX_FAILED, authenticate
from views.pages import allowed

PAGE = "views/users.py"
ADMIN = Actor("admin", "admin")
NEW_PASSWORD = "a-brand-new-password"


def sql(url: str, statement: str, **params):
    with dbm.get_engine(url).begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else None


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def confirmed(at, label: str):
    """Press `label`, then 确认 in the 请确认 dialog."""
    button(at, label).click().run()
    assert not at.exception, at.exception
    button(at, "确认").click().run()
    assert not at.exception, at.exception
    return at


def admin_page(monkeypatch, url: str, user: str | None = None) -> AppTest:
    at = run(monkeypatch, url, ADMIN, PAGE)
    if user:
        at.selectbox(key="users_chosen").set_value(user).run()
        assert not at.exception, at.exception
    return at


def sign_in_page(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("MTX_DATABASE_URL", url)
    monkeypatch.setenv("MTX_CONFIG", str(CONFIG))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    button(at, "登录").click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("role", ["evaluator", "enterprise"])
def test_evaluators_and_enterprise_users_are_refused(monkeypatch, demo_db_url, role):
    actor = actor_for(demo_db_url, role)
    assert PAGE not in [p.file for p in allowed(role)]
    at = run(monkeypatch, demo_db_url, actor)
    with pytest.raises(ValueError):  # not in the navigation: the page cannot be reached at all
        at.switch_page(PAGE)
    at.switch_page("views/refused.py").run()  # what its address /users answers
    assert at.title[0].value == "无权访问" and not at.dataframe
    with dbm.session_scope(demo_db_url) as s, pytest.raises(AccessDenied):
        user_table(s, actor)
    with dbm.session_scope(demo_db_url) as s, pytest.raises(AccessDenied):
        reset_password(s, actor, "admin")


def test_an_administrator_sees_every_user(monkeypatch, demo_db_url):
    at = admin_page(monkeypatch, demo_db_url)
    assert at.title[0].value == "用户管理"
    shown = at.dataframe[0].value
    expected = sql(demo_db_url, "SELECT username, display_name FROM users ORDER BY username")
    assert list(zip(shown["用户名"], shown["显示名称"])) == [tuple(r) for r in expected]
    assert {"admin", "evaluator", "enterprise"} <= set(shown["用户名"])
    enterprise = sql(demo_db_url, "SELECT e.name, e.uscc FROM users u JOIN enterprises e ON e.id = u.enterprise_id "
                                  "WHERE u.username = 'enterprise'")[0]
    row = shown[shown["用户名"] == "enterprise"].iloc[0]
    assert row["企业"] == f"{enterprise[0]}（{enterprise[1]}）" and row["角色"] == "企业用户"
    assert set(shown["状态"]) == {"正常"} and set(shown["最近登录"]) == {"—（未记录）"}


def test_a_reset_shows_a_one_time_password_once_and_the_user_must_change_it(monkeypatch, demo_db_url, clock):
    at = confirmed(admin_page(monkeypatch, demo_db_url, "evaluator"), "重置密码")
    assert any("已为 evaluator 生成一次性密码" in s.value for s in at.success)
    (code,) = at.code
    password = code.value
    assert len(password) == ONE_TIME_LENGTH
    assert any("只显示这一次" in w.value for w in at.warning)
    at.run()
    assert not at.code and all(password not in w.value for w in at.warning)  # shown once only
    assert sql(demo_db_url, "SELECT must_change_password FROM users WHERE username = 'evaluator'")[0][0] in (True, 1)
    audit = sql(demo_db_url, "SELECT actor, entity_key, before, after FROM audit_log "
                             "WHERE action = 'user.password_reset'")
    assert [(a, k) for a, k, *_ in audit] == [("admin", "evaluator")] and password not in str(audit)

    user = sign_in(sign_in_page(monkeypatch, demo_db_url), "evaluator", password)
    assert [t.value for t in user.title] == ["修改密码"]
    assert any("管理员已重置您的密码" in w.value for w in user.warning)
    for other in ("views/overview.py", "views/ranking.py", "views/rounds.py"):
        with pytest.raises(ValueError):  # no other page is in the navigation until the password is changed
            user.switch_page(other)
    boxes = {box.label: box for box in user.text_input}
    boxes["当前密码"].input(password)
    boxes["新密码（至少 8 位）"].input(NEW_PASSWORD)
    boxes["再次输入新密码"].input(NEW_PASSWORD)
    button(user, "保存").click().run()
    assert not user.exception, user.exception
    assert any("现在可以使用全部页面" in s.value for s in user.success)
    user.switch_page("views/overview.py").run()
    assert user.title[0].value == "总览"
    assert sql(demo_db_url, "SELECT must_change_password FROM users WHERE username = 'evaluator'")[0][0] in (False, 0)
    clock.advance(60)
    assert authenticate(demo_db_url, "evaluator", NEW_PASSWORD).role == "evaluator"


@pytest.mark.parametrize("role", ["admin", "enterprise"])
def test_every_role_sees_only_the_password_page_after_a_reset(monkeypatch, demo_db_url, role):
    actor = actor_for(demo_db_url, role)
    with dbm.session_scope(demo_db_url) as s:
        reset_password(s, ADMIN, actor.name)
    at = run(monkeypatch, demo_db_url, actor)
    assert [t.value for t in at.title] == ["修改密码"]
    with pytest.raises(ValueError):
        at.switch_page("views/overview.py")


def test_a_deactivated_users_open_session_ends_on_its_next_run(monkeypatch, demo_db_url):
    evaluator = run(monkeypatch, demo_db_url, Actor("evaluator", "evaluator"), "views/overview.py")
    assert evaluator.title[0].value == "总览"
    at = confirmed(admin_page(monkeypatch, demo_db_url, "evaluator"), "停用账号")
    assert any("已停用 evaluator" in s.value for s in at.success)
    row = at.dataframe[0].value.set_index("用户名").loc["evaluator"]
    assert row["状态"] == "已停用"
    evaluator.run()
    assert not evaluator.exception, evaluator.exception
    assert [t.label for t in evaluator.text_input] == ["用户名", "密码"] and "actor" not in evaluator.session_state
    assert any("请重新登录" in w.value for w in evaluator.warning)

    at.selectbox(key="users_chosen").set_value("evaluator").run()
    confirmed(at, "启用账号")
    assert sql(demo_db_url, "SELECT is_active FROM users WHERE username = 'evaluator'")[0][0] in (True, 1)
    assert [a for (a,) in sql(demo_db_url, "SELECT action FROM audit_log WHERE entity = 'user' AND actor = 'admin' "
                                           "ORDER BY id")] == ["user.deactivate", "user.activate"]


def test_an_administrator_cannot_deactivate_itself(monkeypatch, demo_db_url):
    at = confirmed(admin_page(monkeypatch, demo_db_url, "admin"), "停用账号")
    assert any("不能停用自己的账号" in e.value for e in at.error)
    assert sql(demo_db_url, "SELECT is_active FROM users WHERE username = 'admin'")[0][0] in (True, 1)


def test_unlock_lifts_a_lockout(monkeypatch, demo_db_url, clock):
    for _ in range(MAX_FAILED):
        with pytest.raises(AccessDenied):
            authenticate(demo_db_url, "enterprise", "wrong-password")
        clock.advance(60)
    at = admin_page(monkeypatch, demo_db_url, "enterprise")
    state = at.dataframe[0].value.set_index("用户名").loc["enterprise"]
    assert state["状态"].startswith("已锁定") and state["连续失败"] == MAX_FAILED
    confirmed(at, "解除锁定")
    assert any("已解除 enterprise 的锁定" in s.value for s in at.success)
    assert at.dataframe[0].value.set_index("用户名").loc["enterprise"]["状态"] == "正常"
    assert sql(demo_db_url, "SELECT failed_logins, locked_until FROM users WHERE username = 'enterprise'") \
        == [(0, None)]
    assert authenticate(demo_db_url, "enterprise", "mtx-demo-enterprise").role == "enterprise"


def test_an_evaluator_is_added_with_an_organisation_and_a_one_time_password(monkeypatch, demo_db_url, clock):
    organisation = sql(demo_db_url, "SELECT name FROM organisations ORDER BY name LIMIT 1")[0][0]
    at = admin_page(monkeypatch, demo_db_url)
    at.text_input(key="users_new_name").input("prof-li")
    at.selectbox(key="users_new_role").set_value("evaluator")
    at.selectbox(key="users_new_organisation").set_value(organisation)
    confirmed(at, "添加用户")
    assert any("已为 prof-li 生成一次性密码" in s.value for s in at.success), [e.value for e in at.error]
    password = at.code[0].value
    assert sql(demo_db_url, "SELECT o.name, u.role, u.must_change_password FROM users u JOIN organisations o "
                            "ON o.id = u.organisation_id WHERE u.username = 'prof-li'")[0][:2] \
        == (organisation, "evaluator")
    assert authenticate(demo_db_url, "prof-li", password).role == "evaluator"
    assert at.dataframe[0].value.set_index("用户名").loc["prof-li"]["须修改密码"] == "是"


def test_an_enterprise_user_without_its_enterprise_is_refused_and_nothing_written(monkeypatch, demo_db_url):
    before = sql(demo_db_url, "SELECT count(*) FROM users")
    at = admin_page(monkeypatch, demo_db_url)
    at.text_input(key="users_new_name").input("ent-new")
    at.selectbox(key="users_new_role").set_value("enterprise")
    confirmed(at, "添加用户")
    assert [e.value for e in at.error] == ["企业用户须填写所属企业的统一社会信用代码"]
    assert not at.code
    assert sql(demo_db_url, "SELECT count(*) FROM users") == before
