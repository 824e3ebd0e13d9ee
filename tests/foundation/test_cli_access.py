"""Who the `mtx` command acts as: near-miss `--as` names are refused, usernames are unique after normalising, and
`mtx sample` is refused to anyone but an administrator before anything is written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker.access import Actor
from tracker.cli import main
from tracker.models import Community, Enterprise, User
from tracker.users import UserError, create_user

pytestmark = pytest.mark.postgres

ADMIN = Actor("root", "admin")


@pytest.fixture
def ent_a(session):
    ours = Enterprise(name="示例甲科技（虚构）", uscc="91500000MA5U000001")
    theirs = Enterprise(name="示例乙软件（虚构）", uscc="91500000MA5U000002")
    session.add_all([ours, theirs])
    session.flush()
    create_user(session, ADMIN, "entA", "enterprise", "long-enough-pw", ours.uscc)
    session.commit()
    return ours, theirs


@pytest.mark.parametrize("near_miss", ["ENTA", "entA ", " enta", "ｅｎｔＡ", "ent\u200bA", "\ufeffentA"],
                         ids=["upper", "trailing-space", "leading-space-lower", "full-width", "zero-width", "bom"])
def test_as_a_near_miss_of_a_registered_user_is_refused_naming_it(db_url, ent_a, capsys, near_miss):
    ours, theirs = ent_a
    assert main(["--db", db_url, "--as", near_miss, "enterprises", "list", "--json"]) == 1
    captured = capsys.readouterr()
    assert theirs.uscc not in captured.out and ours.uscc not in captured.out
    assert "--as entA" in captured.err and "Traceback" not in captured.err
    assert repr(near_miss) in captured.err  # the name as typed, invisible characters shown


def test_as_the_exact_name_acts_as_that_user_and_a_new_name_as_the_operator(db_url, ent_a, capsys):
    ours, theirs = ent_a
    assert main(["--db", db_url, "--as", "entA", "enterprises", "list", "--json"]) == 0
    out = capsys.readouterr().out
    assert ours.uscc in out and theirs.uscc not in out
    assert main(["--db", db_url, "--as", "operator-at-shell", "enterprises", "list", "--json"]) == 0
    out = capsys.readouterr().out
    assert ours.uscc in out and theirs.uscc in out


def test_a_username_that_normalises_to_an_existing_one_is_refused(session, ent_a):
    for twin in ("ENTA", "ｅｎｔａ", "ent\u200ba"):
        with pytest.raises(UserError, match="entA"):
            create_user(session, ADMIN, twin, "evaluator", "long-enough-pw")
    with pytest.raises(UserError, match="用户名不能为空"):
        create_user(session, ADMIN, " \u200b ", "evaluator", "long-enough-pw")
    created = create_user(session, ADMIN, "  ｅｘｐｅｒｔ\u200b ", "evaluator", "long-enough-pw")
    assert created.username == "expert"  # stored in its canonical form: NFKC, no invisible characters, trimmed


@pytest.mark.parametrize("who", ["entA", "expert"])
def test_sample_as_a_non_administrator_is_refused_before_anything_is_written(db_url, session, ent_a, capsys, who):
    create_user(session, ADMIN, "expert", "evaluator", "long-enough-pw")
    session.commit()
    assert main(["--db", db_url, "--as", who, "sample"]) == 1
    err = capsys.readouterr().err
    assert f"用户 {who}" in err and "无权执行此操作" in err and "管理员 admin" in err and "sample" in err
    assert "Traceback" not in err and "IntegrityError" not in err
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Community)) == 0
    assert session.scalar(select(func.count()).select_from(Enterprise)) == 2
    assert session.scalar(select(func.count()).select_from(User)) == 2
