"""What every page shares: the database, the signed-in actor, number formatting. No Streamlit logic in tracker/."""
from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager

import streamlit as st

from tracker import db as dbm
from tracker.access import ROLE_LABELS, Actor

__all__ = ["ROLE_LABELS", "database_url", "session", "current_actor", "recheck_actor", "sign_in", "sign_out",
           "take_sign_out_notice", "yuan", "when"]

SESSION_ENDED = "登录已失效（账号已停用、删除或权限变更），请重新登录 / your session ended: the account was disabled, " \
                "removed or changed; please sign in again"


def database_url() -> str:
    return dbm.normalise_url(os.environ.get("MTX_DATABASE_URL") or dbm.DEFAULT_URL)


@contextmanager
def session():
    with dbm.session_scope(database_url()) as s:
        yield s


def current_actor() -> Actor | None:
    actor = st.session_state.get("actor")
    return actor if isinstance(actor, Actor) else None


def recheck_actor() -> Actor | None:
    """The signed-in actor, re-loaded from the database on every page run (one query on the unique username); a
    session whose account is gone, disabled, or has another role or enterprise now is signed out here."""
    from tracker.users import session_actor

    actor = current_actor()
    if actor is None:
        return None
    with session() as s:
        still = session_actor(s, actor)
    if still is None:
        sign_out(notice=SESSION_ENDED)
    return still


def sign_in(actor: Actor) -> None:
    st.session_state["actor"] = actor


def sign_out(notice: str | None = None) -> None:
    st.session_state.pop("actor", None)
    if notice:
        st.session_state["sign_out_notice"] = notice


def take_sign_out_notice() -> str | None:
    """Why the last session ended, shown once on the login page."""
    return st.session_state.pop("sign_out_notice", None)


def yuan(amount: int | float | None) -> str:
    """Money as officials write it: 20万元 for round ten-thousands, otherwise ¥ with separators."""
    if amount is None:
        return "—"
    amount = int(amount)
    if amount and amount % 10_000 == 0:
        return f"{amount // 10_000:,}万元"
    return f"¥{amount:,}"


def when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        local = value.astimezone(dt.timezone(dt.timedelta(hours=8)))
        return local.strftime("%Y-%m-%d %H:%M") + "（北京时间）"
    return value.isoformat()
