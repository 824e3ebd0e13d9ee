"""Accounts for the app: argon2id password hashes, roles, normalised usernames, and sign-in throttling.

Throttling: every failed sign-in for a name is committed in its own transaction, whatever the caller does next. Each
failure delays the next attempt for that name by min(2^(failures-1), 30) s; every 5th consecutive failure locks it for
15 minutes. Names with no account are throttled the same way in this process's memory (no row is created), so the
answers never tell which names exist. The time comes from the module attribute `clock` (tests replace it).
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import audit
from tracker import db as dbm
from tracker.access import AccessDenied, Actor, require_role
from tracker.models import Enterprise, User, utcnow

_hasher = PasswordHasher()
MAX_FAILED = 5
LOCK_MINUTES = 15
MAX_DELAY_SECONDS = 30
UNKNOWN_NAMES_REMEMBERED = 10_000
GENERIC_LOGIN_ERROR = ("用户名或密码错误", "wrong user name or password")  # (zh, en), as AccessDenied takes them

clock: Callable[[], dt.datetime] = utcnow  # aware UTC "now" for throttling; tests set tracker.users.clock


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no real one (same work either way); made on first use, not at import:
    argon2id costs ~0.1 s and 64 MB, which every `mtx` command importing this module would otherwise pay."""
    return _hasher.hash("not-a-real-password")


class UserError(ValueError):
    pass


def canonical_username(name: str) -> str:
    """The name as stored: NFKC (full-width letters become ASCII), invisible format characters removed, trimmed."""
    text = unicodedata.normalize("NFKC", name)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def username_key(name: str) -> str:
    """What names are matched by: the canonical name case-folded, so `EntA`, `ｅｎｔａ ` and `ent\u200ba` are one."""
    return unicodedata.normalize("NFKC", canonical_username(name).casefold())


def create_user(session: Session, actor: Actor, username: str, role: str, password: str,
                enterprise_uscc: str | None = None, display_name: str | None = None, *,
                must_change_password: bool = False, organisation_id: int | None = None) -> User:
    require_role(actor, "admin", action="create users")
    username = canonical_username(username)
    if not username:
        raise UserError("用户名不能为空 / the user name is empty (spaces and invisible characters do not count)")
    if len(password) < 8:
        raise UserError("密码至少 8 位 / the password needs at least 8 characters")
    existing = session.scalar(select(User).where(User.username_key == username_key(username)))
    if existing is not None and existing.username == username:
        raise UserError(f"用户 {username} 已存在 / user {username} already exists")
    if existing is not None:
        raise UserError(f"用户 {username} 与已有用户 {existing.username} 只差大小写、全角或不可见字符 / user {username} "
                        f"differs from the existing user {existing.username} only by case, width or invisible characters")
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
    user = User(username=username, username_key=username_key(username), role=role, password_hash=_hasher.hash(password),
                enterprise_id=enterprise_id, display_name=display_name or username,
                must_change_password=must_change_password, organisation_id=organisation_id)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", username, None, audit.row_dict(user))
    return user


@dataclass
class _Attempts:
    """Consecutive failed sign-ins for one name and what they imply."""

    failures: int = 0
    last_failed_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None

    def wait_seconds(self, now: dt.datetime) -> int:
        """Whole seconds (rounded up) until the next attempt is allowed; 0 when it is allowed now."""
        until = [self.locked_until] if self.locked_until else []
        if self.failures and self.last_failed_at:
            delay = min(2 ** (self.failures - 1), MAX_DELAY_SECONDS)
            until.append(self.last_failed_at + dt.timedelta(seconds=delay))
        left = max(((u - now).total_seconds() for u in until), default=0.0)
        return math.ceil(left) if left > 0 else 0

    def failed(self, now: dt.datetime) -> None:
        self.failures += 1
        self.last_failed_at = now
        if self.failures % MAX_FAILED == 0:
            self.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)


class _UnknownNames:
    """Throttle state for names with no account, in memory (bounded, oldest forgotten first), never in the database."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, _Attempts] = OrderedDict()

    def wait_seconds(self, key: str, now: dt.datetime) -> int:
        with self.lock:
            entry = self.entries.get(key)
            return entry.wait_seconds(now) if entry else 0

    def failed(self, key: str, now: dt.datetime) -> None:
        with self.lock:
            entry = self.entries.pop(key, None) or _Attempts()
            entry.failed(now)
            self.entries[key] = entry
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_unknown_names = _UnknownNames(UNKNOWN_NAMES_REMEMBERED)


def throttled_message(seconds: int) -> tuple[str, str]:
    return f"登录尝试过多，请 {seconds} 秒后再试", f"too many sign-in attempts; try again in {seconds} s"


def authenticate(url: str, username: str, password: str, now: dt.datetime | None = None) -> Actor:
    """Check a password against the database at `url`; the one door every sign-in (app or CLI) goes through.

    The attempt runs in its own transaction, committed before this returns or raises, so a failure is counted whatever
    the caller does next. Refusals: the throttle message while a delay or lock lasts (checked before the password), and
    one message for an unknown name, a disabled account and a wrong password.
    """
    now = now or clock()
    key = username_key(username)
    _dummy_hash()  # made (once per process) before the lookup, so no first attempt is slower for an unknown name
    with dbm.session_scope(url) as session:
        query = select(User).where(User.username_key == key)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # concurrent guesses for one name wait for each other's count
        user = session.scalar(query)
        outcome = _unknown_attempt(key, now) if user is None else _attempt(user, password, now)
    if isinstance(outcome, Actor):
        return outcome
    raise AccessDenied(*outcome)


def _unknown_attempt(key: str, now: dt.datetime) -> tuple[str, str]:
    wait = _unknown_names.wait_seconds(key, now)
    if wait:
        return throttled_message(wait)
    _hasher.verify(_dummy_hash(), "not-a-real-password")  # same work as a real check
    _unknown_names.failed(key, now)
    return GENERIC_LOGIN_ERROR


def _attempt(user: User, password: str, now: dt.datetime) -> Actor | tuple[str, str]:
    """One attempt on an account: the Actor, or the refusal to show. Changes to `user` are the caller's to commit."""
    attempts = _Attempts(user.failed_logins, user.last_failed_login_at, user.locked_until)
    wait = attempts.wait_seconds(now)
    if wait:
        return throttled_message(wait)
    if user.is_active and user.password_hash and _verify(user.password_hash, password):
        user.failed_logins, user.last_failed_login_at, user.locked_until = 0, None, None
        user.last_sign_in_at = now
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return Actor(user.username, user.role, user.enterprise_id)  # type: ignore[arg-type]
    if not (user.is_active and user.password_hash):
        _hasher.verify(_dummy_hash(), "not-a-real-password")  # same work as a real check
    attempts.failed(now)
    user.failed_logins, user.last_failed_login_at, user.locked_until = \
        attempts.failures, attempts.last_failed_at, attempts.locked_until
    return GENERIC_LOGIN_ERROR


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class SessionCheck:
    """What a page run needs to know about its signed-in user: still valid, and whether a new password is due."""

    actor: Actor | None
    must_change_password: bool = False


def check_session(session: Session, actor: Actor) -> SessionCheck:
    """Re-check a signed-in actor (one query on the unique username): no actor when the account is gone, disabled, or
    its role or enterprise is no longer what the session was signed in with; else whether it must change its password
    (set by an administrator's reset) before it may do anything else."""
    user = session.scalar(select(User).where(User.username == actor.name))
    if user is None or not user.is_active or (user.role, user.enterprise_id) != (actor.role, actor.enterprise_id):
        return SessionCheck(None)
    return SessionCheck(actor, bool(user.must_change_password))


def session_actor(session: Session, actor: Actor) -> Actor | None:
    """`check_session`'s actor: None when the session must end."""
    return check_session(session, actor).actor


def list_users(session: Session, actor: Actor) -> list[User]:
    require_role(actor, "admin", action="list users")
    return list(session.scalars(select(User).order_by(User.username)))


def change_own_password(session: Session, actor: Actor, current: str, new: str, repeated: str) -> None:
    """A signed-in user changes their own password: the current one must be right, the new one at least 8 characters,
    typed twice, and different; audited (without either password)."""
    user = session.scalar(select(User).where(User.username == actor.name))
    if user is None or not user.is_active or not user.password_hash:
        raise UserError("当前账户无法修改密码 / this account cannot change its password here")
    if not _verify(user.password_hash, current):
        raise UserError("当前密码不正确 / the current password is wrong")
    if len(new) < 8:
        raise UserError("新密码至少 8 位 / the new password needs at least 8 characters")
    if new != repeated:
        raise UserError("两次输入的新密码不一致 / the two new passwords differ")
    if new == current:
        raise UserError("新密码不能与当前密码相同 / the new password is the current one")
    forced = bool(user.must_change_password)
    user.password_hash = _hasher.hash(new)
    user.must_change_password = False
    audit.record(session, actor, "user.password_change", "user", user.username, None,
                 {"by": "self", **({"after_reset": True} if forced else {})})
