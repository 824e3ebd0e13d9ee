"""Accounts for the app: argon2id password hashes, roles, and a per-account lockout after failed sign-ins."""
from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import AccessDenied, Actor, require_role
from tracker.models import Enterprise, User, utcnow

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MAX_FAILED = 5
LOCK_MINUTES = 15
GENERIC_LOGIN_ERROR = "用户名或密码错误 / wrong user name or password"


class UserError(ValueError):
    pass


def create_user(session: Session, actor: Actor, username: str, role: str, password: str,
                enterprise_uscc: str | None = None, display_name: str | None = None) -> User:
    require_role(actor, "admin", action="create users")
    if len(password) < 8:
        raise UserError("密码至少 8 位 / the password needs at least 8 characters")
    if session.scalar(select(User).where(User.username == username)):
        raise UserError(f"用户 {username} 已存在 / user {username} already exists")
    enterprise_id = None
    if role == "enterprise":
        if not enterprise_uscc:
            raise UserError("企业用户需要 --enterprise 统一社会信用代码 / an enterprise user needs --enterprise USCC")
        enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == enterprise_uscc))
        if enterprise is None:
            raise UserError(f"企业 {enterprise_uscc} 不存在 / no enterprise with code {enterprise_uscc}; import it first")
        enterprise_id = enterprise.id
    elif enterprise_uscc:
        raise UserError("只有企业用户关联企业 / only enterprise users are linked to an enterprise")
    user = User(username=username, role=role, password_hash=_hasher.hash(password), enterprise_id=enterprise_id,
                display_name=display_name or username)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", username, None, audit.row_dict(user))
    return user


def authenticate(session: Session, username: str, password: str, now: dt.datetime | None = None) -> Actor:
    """Check a password; the same error for unknown users and wrong passwords; lock after repeated failures."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or not user.password_hash:
        _hasher.verify(_DUMMY_HASH, "not-a-real-password")  # same work as a real check
        raise AccessDenied(GENERIC_LOGIN_ERROR)
    if user.locked_until and user.locked_until > now:
        raise AccessDenied(GENERIC_LOGIN_ERROR)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        session.flush()
        raise AccessDenied(GENERIC_LOGIN_ERROR) from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return Actor(user.username, user.role, user.enterprise_id)  # type: ignore[arg-type]


def list_users(session: Session, actor: Actor) -> list[User]:
    require_role(actor, "admin", action="list users")
    return list(session.scalars(select(User).order_by(User.username)))
