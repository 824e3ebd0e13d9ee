"""Administering accounts (the 用户管理 page and `mtx users ...`): the users table, adding a user, resetting a password
to a one-time password, lifting a sign-in lockout, deactivating and activating, the organisation an evaluator works
for. Administrators only; every change is audited with the acting user and never carries a password.

A reset (and an account added without a password) gets a one-time password made with `secrets`: it is returned once,
to be shown once, stored only as its hash, and `must_change_password` keeps the user on 修改密码 until they change it.
"""
from __future__ import annotations

import datetime as dt
import secrets
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.bilingual import BilingualError
from tracker import audit
from tracker import users as accounts
from tracker.access import Actor, require_role
from tracker.models import Enterprise, Organisation, User
from tracker.vocab import ROLES

# letters and digits that cannot be mistaken for one another when read off a screen (no 0/O, 1/l/I)
ONE_TIME_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ONE_TIME_LENGTH = 16  # about 93 bits


class UserAdminError(BilingualError):
    """A change to an account that cannot be made as asked: nothing was written. `zh` and `en` say why and the fix."""


def one_time_password() -> str:
    return "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_LENGTH))


def _admin(actor: Actor, what: str) -> None:
    require_role(actor, "admin", action=what)


def find_user(session: Session, username: str) -> User:
    """The user of that name, matched as sign-in matches it (case, width, spaces and invisible characters aside)."""
    user = session.scalar(select(User).where(User.username_key == accounts.username_key(username or "")))
    if user is None:
        shown = accounts.canonical_username(username or "") or "（空）"
        raise UserAdminError(f"没有用户 {shown}：请检查用户名（mtx users list 列出全部用户）",
                             f"no user {shown!r}: check the name (mtx users list shows every user)")
    return user


def find_organisation(session: Session, name: str) -> Organisation:
    """An organisation by its name as stored (`mtx orgs list` shows them), trimmed; else the one whose name is the
    same after NFKC (full-width and ASCII brackets alike)."""
    wanted = (name or "").strip()
    organisation = session.scalar(select(Organisation).where(Organisation.name == wanted))
    if organisation is None:
        key = unicodedata.normalize("NFKC", wanted)
        twins = [o for o in session.scalars(select(Organisation)) if unicodedata.normalize("NFKC", o.name) == key]
        organisation = twins[0] if len(twins) == 1 else None
    if organisation is None:
        raise UserAdminError(f"没有组织 {wanted or '（空）'}：请使用 mtx orgs list 或「人员与组织」中显示的组织名称",
                             f"no organisation {wanted!r}: use a name that mtx orgs list shows")
    return organisation


def _state(user: User) -> dict:
    """What an audit entry records of an account (never its password hash)."""
    return {"role": user.role, "is_active": user.is_active, "must_change_password": user.must_change_password,
            "failed_logins": user.failed_logins, "locked_until": user.locked_until,
            "organisation_id": user.organisation_id}


def lock_state(user: User, now: dt.datetime) -> tuple[bool, int]:
    """(locked, seconds until the next attempt is allowed): locked while `locked_until` lies ahead; the seconds count
    the lock and the delay after the last failure alike (tracker.users' rule)."""
    attempts = accounts._Attempts(user.failed_logins, user.last_failed_login_at, user.locked_until)
    return bool(user.locked_until and user.locked_until > now), attempts.wait_seconds(now)


def user_table(session: Session, actor: Actor, now: dt.datetime | None = None) -> list[dict]:
    """Every account, by username: role, the enterprise of an enterprise user, the organisation of an evaluator,
    active/locked state, consecutive failures, a password change due, the last sign-in (None: not recorded)."""
    _admin(actor, "list users")
    now = now or accounts.clock()
    found = session.execute(
        select(User, Enterprise.name, Enterprise.uscc, Organisation.name)
        .outerjoin(Enterprise, Enterprise.id == User.enterprise_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .order_by(User.username)).all()
    rows = []
    for user, enterprise, uscc, organisation in found:
        locked, wait = lock_state(user, now)
        rows.append({
            "username": user.username, "display_name": user.display_name, "role": user.role,
            "enterprise": enterprise, "uscc": uscc, "organisation": organisation, "active": user.is_active,
            "locked": locked, "locked_until": user.locked_until if locked else None, "wait_seconds": wait,
            "failed_logins": user.failed_logins, "must_change_password": user.must_change_password,
            "last_sign_in_at": user.last_sign_in_at, "created_at": user.created_at,
        })
    return rows


def add_user(session: Session, actor: Actor, username: str, role: str, password: str | None = None, *,
             enterprise_uscc: str | None = None, organisation: str | None = None,
             display_name: str | None = None) -> tuple[User, str | None]:
    """A new account: an enterprise user needs its enterprise's code; an evaluator may be linked to the organisation
    it works for (by name). Without `password` a one-time password is made, returned (the only time it exists in
    clear) and must be changed at the first sign-in. Returns (user, the one-time password or None)."""
    _admin(actor, "create users")
    if role not in ROLES:
        raise UserAdminError(f"角色须为 {'、'.join(f'{t.value}（{t.zh}）' for t in ROLES)}，而不是 {role}",
                             f"the role must be one of {', '.join(ROLES.values)}, not {role!r}")
    enterprise_uscc = (enterprise_uscc or "").strip() or None
    organisation = (organisation or "").strip() or None
    if role == "enterprise" and not enterprise_uscc:
        raise UserAdminError("企业用户须填写所属企业的统一社会信用代码", "an enterprise user needs its enterprise's USCC")
    if organisation and role != "evaluator":
        raise UserAdminError("只有评审专家关联所属组织（用于提示回避）", "only evaluators are linked to an organisation")
    organisation_row = find_organisation(session, organisation) if organisation else None
    if enterprise_uscc:
        from tracker.ledger.identifiers import normalise_code

        enterprise_uscc = normalise_code(enterprise_uscc)
    one_time = None if password else one_time_password()
    try:
        user = accounts.create_user(session, actor, username, role, password or one_time, enterprise_uscc,
                                    display_name, must_change_password=one_time is not None,
                                    organisation_id=organisation_row.id if organisation_row else None)
    except accounts.UserError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise UserAdminError(zh.replace("需要 --enterprise ", "需要"), en or zh) from None
    return user, one_time


def reset_password(session: Session, actor: Actor, username: str) -> str:
    """A new one-time password for `username`, returned once; the old password stops working, a lockout is lifted,
    and the user must change the password at the next sign-in. Audited without the password."""
    _admin(actor, "reset passwords")
    user = find_user(session, username)
    if not user.is_active:
        raise UserAdminError(f"用户 {user.username} 已停用：请先启用，再重置密码",
                             f"user {user.username} is deactivated: activate it first, then reset the password")
    before = _state(user)
    password = one_time_password()
    user.password_hash = accounts._hasher.hash(password)
    user.must_change_password = True
    user.failed_logins, user.last_failed_login_at, user.locked_until = 0, None, None
    audit.record(session, actor, "user.password_reset", "user", user.username, before, _state(user))
    return password


def unlock(session: Session, actor: Actor, username: str) -> User:
    """Lift a lockout and the delay after failed sign-ins (the count starts again from 0)."""
    _admin(actor, "unlock users")
    user = find_user(session, username)
    if not user.failed_logins and user.locked_until is None and user.last_failed_login_at is None:
        raise UserAdminError(f"用户 {user.username} 没有被锁定，也没有失败的登录尝试，无需解锁",
                             f"user {user.username} is not locked and has no failed sign-ins: nothing to unlock")
    before = _state(user)
    user.failed_logins, user.last_failed_login_at, user.locked_until = 0, None, None
    audit.record(session, actor, "user.unlock", "user", user.username, before, _state(user))
    return user


def _active_admins(session: Session) -> int:
    return len(session.scalars(select(User.id).where(User.role == "admin", User.is_active.is_(True))).all())


def deactivate(session: Session, actor: Actor, username: str) -> User:
    """Stop an account: it can no longer sign in, and an open session of it ends on its next page run. Refused for
    one's own account and for the last active administrator."""
    _admin(actor, "deactivate users")
    user = find_user(session, username)
    if not user.is_active:
        raise UserAdminError(f"用户 {user.username} 已是停用状态", f"user {user.username} is already deactivated")
    if user.username == actor.name:
        raise UserAdminError("不能停用自己的账号：请另一位管理员操作", "you cannot deactivate your own account")
    if user.role == "admin" and _active_admins(session) <= 1:
        raise UserAdminError(f"{user.username} 是最后一位启用的管理员，不能停用：请先添加或启用另一位管理员",
                             f"{user.username} is the last active administrator: add or activate another first")
    before = _state(user)
    user.is_active = False
    audit.record(session, actor, "user.deactivate", "user", user.username, before, _state(user))
    return user


def activate(session: Session, actor: Actor, username: str) -> User:
    """Let a deactivated account sign in again (with its password as it was)."""
    _admin(actor, "activate users")
    user = find_user(session, username)
    if user.is_active:
        raise UserAdminError(f"用户 {user.username} 已是启用状态", f"user {user.username} is already active")
    before = _state(user)
    user.is_active = True
    audit.record(session, actor, "user.activate", "user", user.username, before, _state(user))
    return user


def set_organisation(session: Session, actor: Actor, username: str, organisation: str | None) -> User:
    """Link an evaluator to the organisation it works for (by name), or unlink it (None or empty)."""
    _admin(actor, "set a user's organisation")
    user = find_user(session, username)
    if user.role != "evaluator":
        raise UserAdminError(f"只有评审专家关联所属组织，{user.username} 是{ROLES.zh(user.role)}",
                             f"only evaluators are linked to an organisation; {user.username} is {user.role}")
    target = find_organisation(session, organisation) if (organisation or "").strip() else None
    if user.organisation_id == (target.id if target else None):
        raise UserAdminError(f"用户 {user.username} 的所属组织已是 {target.name if target else '（无）'}",
                             f"user {user.username} is already linked to {target.name if target else 'no organisation'}")
    old = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    user.organisation_id = target.id if target else None
    audit.record(session, actor, "user.set_organisation", "user", user.username,
                 {"organisation": old.name if old else None}, {"organisation": target.name if target else None})
    return user


def organisation_names(session: Session, actor: Actor) -> list[str]:
    """The organisations an evaluator may be linked to, by name (the page's chooser)."""
    _admin(actor, "list organisations for users")
    return list(session.scalars(select(Organisation.name).order_by(Organisation.name)))


def enterprise_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(USCC, name) of every enterprise, by name (the page's chooser for enterprise users)."""
    _admin(actor, "list enterprises for users")
    return [(u, n) for u, n in session.execute(select(Enterprise.uscc, Enterprise.name).order_by(Enterprise.name))]
