"""修改密码 through the app: a wrong current password changes nothing; a good change signs in with the new one only."""
from __future__ import annotations

import pytest

from tests.app.test_ranking import run
from tracker.access import AccessDenied, Actor
from tracker.users import authenticate

NEW = "A-new-password-2026"


def fill(at, current, new, repeated):
    boxes = {box.label: box for box in at.text_input}
    boxes["当前密码"].input(current)
    boxes["新密码（至少 8 位）"].input(new)
    boxes["再次输入新密码"].input(repeated)
    next(b for b in at.button if b.label == "保存").click().run()
    return at


def test_an_enterprise_user_changes_its_password(monkeypatch, sample_db_url, clock):
    from tracker import db as dbm

    with dbm.get_engine(sample_db_url).connect() as conn:
        enterprise = conn.exec_driver_sql("SELECT id FROM enterprises ORDER BY id LIMIT 1").scalar()
    at = run(monkeypatch, sample_db_url, Actor("enterprise", "enterprise", enterprise), "views/password.py")
    assert at.title[0].value == "修改密码"
    fill(at, "wrong-password", NEW, NEW)
    assert at.error[0].value == "当前密码不正确" and not at.success
    fill(at, "mtx-demo-enterprise", NEW, NEW + "x")
    assert at.error[0].value == "两次输入的新密码不一致"
    fill(at, "mtx-demo-enterprise", NEW, NEW)
    assert "密码已修改" in at.success[0].value
    assert authenticate(sample_db_url, "enterprise", NEW).role == "enterprise"
    clock.advance(120)  # after the failed attempts above, past any throttle
    with pytest.raises(AccessDenied):
        authenticate(sample_db_url, "enterprise", "mtx-demo-enterprise")
    with dbm.get_engine(sample_db_url).connect() as conn:
        audit = conn.exec_driver_sql("SELECT actor, after FROM audit_log WHERE action = 'user.password_change'").all()
    assert len(audit) == 1 and audit[0][0] == "enterprise" and NEW not in str(audit[0][1])
