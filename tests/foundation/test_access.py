"""Tracker functions take the acting user and enforce what that user may see."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tracker.access import AccessDenied, Actor, resolve_actor
from tracker.cli import main
from tracker.enterprises import NotFound, get_enterprise, list_enterprises
from tracker.models import AuditEntry, Enterprise, User
from tracker.users import authenticate, create_user

pytestmark = pytest.mark.postgres

ADMIN = Actor("root", "admin")


@pytest.fixture
def two_enterprises(session):
    ours = Enterprise(name="示例甲科技（虚构）", uscc="91500000MA5U000001", district="渝北区")
    theirs = Enterprise(name="示例乙软件（虚构）", uscc="91500000MA5U000002", district="沙坪坝区")
    session.add_all([ours, theirs])
    session.commit()
    return ours, theirs


def test_enterprise_user_sees_only_its_own_enterprise(session, two_enterprises):
    ours, theirs = two_enterprises
    actor = Actor("ent-a", "enterprise", ours.id)
    assert [row["uscc"] for row in list_enterprises(session, actor)] == [ours.uscc]
    assert get_enterprise(session, actor, ours.uscc).id == ours.id
    with pytest.raises(AccessDenied, match="only see its own"):
        get_enterprise(session, actor, theirs.uscc)


def test_enterprise_user_cannot_probe_which_codes_exist(session, two_enterprises):
    ours, _ = two_enterprises
    actor = Actor("ent-a", "enterprise", ours.id)
    with pytest.raises(AccessDenied):
        get_enterprise(session, actor, "91500000MA5UXXXXXX")


def test_admin_and_evaluator_see_every_enterprise(session, two_enterprises):
    for actor in (ADMIN, Actor("expert", "evaluator")):
        assert len(list_enterprises(session, actor)) == 2
    with pytest.raises(NotFound):
        get_enterprise(session, ADMIN, "91500000MA5UXXXXXX")


def test_only_admins_create_users_and_creation_is_audited(session, two_enterprises):
    ours, _ = two_enterprises
    with pytest.raises(AccessDenied):
        create_user(session, Actor("expert", "evaluator"), "x", "admin", "long-enough-pw")
    create_user(session, ADMIN, "ent-a", "enterprise", "long-enough-pw", ours.uscc)
    session.commit()
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert (entry.actor, entry.entity_key) == ("root", "ent-a")
    assert "password_hash" not in entry.after
    assert resolve_actor(session, "ent-a") == Actor("ent-a", "enterprise", ours.id)
    assert resolve_actor(session, "someone-at-the-shell") == Actor("someone-at-the-shell", "admin")


def test_wrong_passwords_lock_the_account_with_one_message(db_url, session, two_enterprises):
    create_user(session, ADMIN, "expert", "evaluator", "correct-horse")
    session.commit()
    start = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    for i in range(5):
        with pytest.raises(AccessDenied, match="用户名或密码错误"):
            authenticate(db_url, "expert", "wrong", now=start + dt.timedelta(minutes=i))
    fifth = start + dt.timedelta(minutes=4)
    with pytest.raises(AccessDenied, match="请 899 秒后再试"):
        authenticate(db_url, "expert", "correct-horse", now=fifth + dt.timedelta(seconds=1))  # locked now
    with pytest.raises(AccessDenied, match="用户名或密码错误"):
        authenticate(db_url, f"nobody-{uuid.uuid4().hex}", "x", now=start)
    session.expire_all()
    user = session.scalar(select(User).where(User.username == "expert"))
    assert user.failed_logins == 5 and user.last_failed_login_at == fifth
    assert user.locked_until == fifth + dt.timedelta(minutes=15) and user.password_hash.startswith("$argon2id$")
    # a sixth failure after the lock waits min(2^5, 30) = 30 s; the tenth locks again
    after = fifth + dt.timedelta(minutes=15)
    with pytest.raises(AccessDenied, match="用户名或密码错误"):
        authenticate(db_url, "expert", "wrong", now=after)
    with pytest.raises(AccessDenied, match="请 30 秒后再试"):
        authenticate(db_url, "expert", "correct-horse", now=after)
    assert authenticate(db_url, "expert", "correct-horse", now=after + dt.timedelta(seconds=30)).role == "evaluator"


def test_a_disabled_account_answers_like_a_wrong_password_and_is_throttled(db_url, session):
    create_user(session, ADMIN, "gone", "evaluator", "correct-horse")
    session.commit()
    session.execute(User.__table__.update().values(is_active=False))
    session.commit()
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    with pytest.raises(AccessDenied, match="用户名或密码错误"):
        authenticate(db_url, "gone", "correct-horse", now=now)
    with pytest.raises(AccessDenied, match="请 1 秒后再试"):
        authenticate(db_url, "gone", "correct-horse", now=now)


def test_cli_acts_as_the_user_named_by_as(db_url, session, two_enterprises, capsys, monkeypatch):
    ours, theirs = two_enterprises
    create_user(session, ADMIN, "ent-a", "enterprise", "long-enough-pw", ours.uscc)
    session.commit()
    assert main(["--db", db_url, "--as", "ent-a", "enterprises", "list", "--json"]) == 0
    out = capsys.readouterr().out
    assert ours.uscc in out and theirs.uscc not in out
    assert main(["--db", db_url, "--as", "ent-a", "enterprises", "show", theirs.uscc]) == 1
    assert "only see its own" in capsys.readouterr().err
    monkeypatch.setenv("MTX_USER", "ent-a")
    assert main(["--db", db_url, "enterprises", "show", theirs.uscc, "--json"]) == 1
