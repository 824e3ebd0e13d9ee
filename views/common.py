"""What every page shares: the database, the signed-in actor, formatting (tracker.formatting). No Streamlit logic in
tracker/."""
from __future__ import annotations

import os
from pathlib import Path
from contextlib import contextmanager

import streamlit as st

from common.bilingual import Bilingual
from tracker import db as dbm
from tracker.access import ROLE_LABELS, Actor
from tracker.formatting import when, yuan

__all__ = ["ROLE_LABELS", "database_url", "session", "current_actor", "recheck_actor", "sign_in", "sign_out",
           "take_sign_out_notice", "must_change_password", "yuan", "when"]

MUST_CHANGE = "must_change_password"
SESSION_ENDED = Bilingual("登录已失效（账号已停用、删除或权限变更），请重新登录",
                          "your session ended: the account was disabled, removed or changed; please sign in again")


def database_url() -> str:
    return dbm.normalise_url(os.environ.get("MTX_DATABASE_URL") or dbm.DEFAULT_URL)


def config_dir() -> Path:
    """The configuration directory, as the command line finds it (MTX_CONFIG, else ./config)."""
    return Path(os.environ.get("MTX_CONFIG") or "config")


def data_versions() -> tuple:
    """What cached figures depend on (tracker.dataversion): pass it to a st.cache_data loader as an argument, so a
    collection, a people correction, a score or an edited model file makes the next run compute afresh."""
    from views.figures import versions_of

    return versions_of(database_url(), str(config_dir()))


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
    from tracker.users import check_session

    actor = current_actor()
    if actor is None:
        return None
    with session() as s:
        check = check_session(s, actor)
    if check.actor is None:
        sign_out(notice=SESSION_ENDED)
    st.session_state[MUST_CHANGE] = check.must_change_password
    return check.actor


def must_change_password() -> bool:
    """True while the signed-in user's password was reset by an administrator and not yet changed (this run's
    `recheck_actor` read it): the app then shows only 修改密码."""
    return bool(st.session_state.get(MUST_CHANGE))


def sign_in(actor: Actor) -> None:
    st.session_state["actor"] = actor


def sign_out(notice: Bilingual | None = None) -> None:
    st.session_state.pop("actor", None)
    if notice:
        st.session_state["sign_out_notice"] = notice


def take_sign_out_notice() -> Bilingual | None:
    """Why the last session ended, shown once on the login page."""
    return st.session_state.pop("sign_out_notice", None)
