"""Who is acting, and what they may see.

Every tracker function that reads or changes data takes an `Actor`. Enterprise users see only their own enterprise's
rows; evaluators see community data and the ledger read-only; administrators see and change everything.
"""
from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # SQLAlchemy is imported where a query runs, so `mtx --help` starts without it
    from sqlalchemy.orm import Session

from common.bilingual import BilingualError
from tracker.vocab import ROLES

Role = Literal[ROLES.values]  # type: ignore[valid-type]


class AccessDenied(BilingualError, PermissionError):
    """The actor may not do or see this. `zh` and `en` say who, what, and what role it needs."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    enterprise_id: int | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES.values)}")
        if (self.role == "enterprise") != (self.enterprise_id is not None):
            raise ValueError("an enterprise actor needs an enterprise, and only an enterprise actor has one")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_see_enterprise(self, enterprise_id: int) -> bool:
        return self.role != "enterprise" or self.enterprise_id == enterprise_id


SYSTEM = Actor("system", "admin")

ROLE_LABELS = ROLES.labels()  # role -> Chinese label


def require_role(actor: Actor, *roles: Role, action: str = "this action") -> None:
    if actor.role not in roles:
        needed = " / ".join(f"{ROLES.zh(r)} {r}" for r in roles)
        raise AccessDenied(f"用户 {actor.name}（{ROLES.zh(actor.role)}）无权执行此操作",
                           f"{actor.name} ({actor.role}) may not do {action}; it needs {needed}")


def require_enterprise(actor: Actor, enterprise_id: int, what: str = "this enterprise's data") -> None:
    if not actor.may_see_enterprise(enterprise_id):
        raise AccessDenied(f"用户 {actor.name} 只能查看本企业的数据",
                           f"{actor.name} may only see its own enterprise's data, not {what}")


def scope_enterprise(stmt, actor: Actor, enterprise_id_column):
    """Restrict a SELECT to the actor's enterprise when the actor is an enterprise user."""
    if actor.role == "enterprise":
        return stmt.where(enterprise_id_column == actor.enterprise_id)
    return stmt


def os_login() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USER") or "unknown"


def resolve_actor(session: Session, name: str | None) -> Actor:
    """The actor the CLI acts as: a registered user's role, else the operator at the shell (administrator).

    Whoever can run `mtx` against the database can change it directly, so an unregistered name acts as an
    administrator; the name is what the audit log records. A registered but disabled user is refused, and so is a name
    that is not registered but matches a registered one once normalised (`ENTA`, `entA `): it would otherwise act as
    administrator where the person meant the enterprise user.
    """
    from sqlalchemy import select

    from tracker.models import User
    from tracker.users import username_key

    name = name or os_login()
    if not username_key(name):
        raise AccessDenied(f"--as {name!r}: 用户名为空", "the user name is empty; name a user or leave --as out")
    user = session.scalar(select(User).where(User.username_key == username_key(name)))
    if user is None:
        return Actor(name, "admin")
    if user.username != name:
        raise AccessDenied(f"--as {name!r} 不是已注册用户，但与已注册用户 {user.username} 只差大小写、空白、全角或不可见字符；"
                           f"请写 --as {user.username}", f"{name!r} is not a registered user but matches the registered "
                           f"user {user.username} once case, spaces, width and invisible characters are ignored: "
                           f"use --as {user.username}")
    if not user.is_active:
        raise AccessDenied(f"用户 {name} 已停用", f"user {name} is disabled; an administrator can re-enable it")
    return Actor(user.username, user.role, user.enterprise_id)  # type: ignore[arg-type]
