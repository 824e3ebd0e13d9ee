"""The figures several pages share, computed once per version of the data and kept between clicks and sessions.

The live ranking of every community (社区排名, 社区详情 and its "why this score") and the organisations with their
contributor and commit counts (人员与组织) each read every commit: seconds at sample scale 100. They are the same for
every administrator and evaluator, so they are cached without the actor (the caller checks the actor first with
the tracker's own access rule) and keyed by `data_versions()`: a collection, a people correction, a score or an
edited model makes the next run compute afresh; nothing is shown stale for a fixed time.

A warm-up thread per server process (started by the first visit, while the sign-in page is read) computes the
default ranking (the default model, the default as-of date, every field) and the organisation counts whenever the
data version changes, so the first click after a collection is as fast as the next ones. It only runs under a real
Streamlit server (not in AppTest), sleeps between checks, stops when its database file is gone, and can be turned
off with MTX_APP_WARM_UP=0.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from pathlib import Path

import streamlit as st

from tracker import db as dbm
from tracker.access import SYSTEM
from views.choosers import DEFAULT_MODEL

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 20


def versions_of(url: str, config: str) -> tuple:
    from tracker.dataversion import config_version, data_version

    with dbm.session_scope(url) as s:
        return data_version(s), config_version(config)


_locks: dict[tuple, threading.Lock] = {}
_locks_guard = threading.Lock()


def _one_at_a_time(*key) -> threading.Lock:
    """A lock per computation: a page that asks while the warm-up (or another session) computes the same figures
    waits for that result instead of computing it a second time beside it."""
    with _locks_guard:
        if len(_locks) > 256:  # old versions' locks: nobody waits on them any more
            for old in [k for k, lock in _locks.items() if not lock.locked()]:
                del _locks[old]
        return _locks.setdefault(key, threading.Lock())


def live_all(url: str, model: str, config: str, as_of: dt.date, versions: tuple):
    """(scores, report, model) of every community: `tracker.scoring.live.live_ranking` with focus=None."""
    with _one_at_a_time("live", url, model, config, as_of, versions):
        return _live_all(url, model, config, as_of, versions)


@st.cache_data(ttl=6 * 3600, max_entries=16, show_spinner=False)
def _live_all(url: str, model: str, config: str, as_of: dt.date, versions: tuple):
    from tracker.scoring.live import live_ranking

    with dbm.session_scope(url) as s:
        return live_ranking(s, SYSTEM, model, config, as_of=as_of)


@st.cache_data(ttl=6 * 3600, max_entries=32, show_spinner=False)
def live(url: str, model: str, config: str, as_of: dt.date, focus: str | None, versions: tuple):
    """The ranking within one focus field (None: all), from the all-fields computation (peers are the whole field)."""
    from tracker.scoring.live import in_focus

    everything = live_all(url, model, config, as_of, versions)
    if focus is None:
        return everything
    scores, report, scoring_model = everything
    return in_focus(scoring_model, report, focus), report, scoring_model


@st.cache_data(ttl=6 * 3600, max_entries=8, show_spinner=False)
def configuration(config: str, config_version: tuple):
    """The parsed configuration, once per version of its files (parsing the YAML costs more than most queries)."""
    from tracker.config import load_config

    return load_config(config)


def organisations(url: str, domains: tuple, versions: tuple) -> list[dict]:
    """`tracker.people.queries.list_organisations` (every organisation with its people and commits)."""
    with _one_at_a_time("organisations", url, domains, versions):
        return _organisations(url, domains, versions)


@st.cache_data(ttl=6 * 3600, max_entries=8, show_spinner=False)
def _organisations(url: str, domains: tuple, versions: tuple) -> list[dict]:
    from tracker.people.queries import list_organisations

    with dbm.session_scope(url) as s:
        return list_organisations(s, SYSTEM, False, {name: list(ds) for name, ds in domains})


def configured_domains(config) -> tuple:
    return tuple((o.name, tuple(o.domains)) for o in config.organisations.organisations)


def _default_as_of(url: str) -> dt.date:
    from tracker.metrics.compute import default_as_of

    with dbm.session_scope(url) as s:
        return default_as_of(s, dt.datetime.now(dt.timezone.utc), 3)[0]


class WarmUp:
    """Recomputes the default figures after each change of the data version (see the module's docstring)."""

    def __init__(self, url: str, config: str) -> None:
        self.url, self.config = url, config
        self.stopped = threading.Event()
        self.warmed: tuple | None = None
        self.rounds = 0
        self.thread = threading.Thread(target=self._loop, name="mtx-warm-up", daemon=True)
        self.thread.start()

    def _database_gone(self) -> bool:
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        return url.get_backend_name() == "sqlite" and bool(url.database) and not Path(url.database).exists()

    def warm_once(self) -> bool:
        """Compute what the current version lacks; True when something was computed."""
        versions = versions_of(self.url, self.config)
        if versions == self.warmed:
            return False
        live_all(self.url, DEFAULT_MODEL, self.config, _default_as_of(self.url), versions)
        try:
            config = configuration(self.config, versions[1])
        except Exception:  # a configuration error is the pages' to show; the ranking above needs none of it
            config = None
        if config is not None:
            organisations(self.url, configured_domains(config), versions)
        self.warmed = versions
        self.rounds += 1
        return True

    def _loop(self) -> None:
        while not self.stopped.is_set():
            if self._database_gone():
                return
            try:
                self.warm_once()
            except Exception:  # never take the app down; the pages compute on demand as before
                log.warning("warm-up of the app's figures failed; pages compute on demand", exc_info=True)
            self.stopped.wait(CHECK_EVERY_SECONDS)


@st.cache_resource(show_spinner=False)
def _warm_up(url: str, config: str) -> WarmUp:
    return WarmUp(url, config)


def _prepare() -> None:
    """What the first signed-in run would otherwise pay for: pandas and the pages' modules imported, the sign-in's
    stand-in hash made (argon2id, made once per process)."""
    try:
        import pandas  # noqa: F401  (about 1 s to import: the login page does not need it, 总览 does)

        import tracker.metrics.detail  # noqa: F401
        import tracker.overview  # noqa: F401
        import tracker.scoring.live  # noqa: F401
        from tracker.users import _dummy_hash

        _dummy_hash()
    except Exception:  # only a head start: the pages import what they need anyway
        log.warning("preparing the app process failed; pages load their modules on first use", exc_info=True)


@st.cache_resource(show_spinner=False)
def _prepared() -> threading.Thread:
    thread = threading.Thread(target=_prepare, name="mtx-prepare", daemon=True)
    thread.start()
    return thread


def under_a_server() -> bool:
    """True in `streamlit run` (a real Runtime); False in plain Python and under AppTest (a mock Runtime)."""
    from streamlit import runtime
    from streamlit.runtime import Runtime

    return runtime.exists() and type(runtime.get_instance()) is Runtime


def prepare_process() -> threading.Thread | None:
    """Once per server process, while the first visitor reads the sign-in page (nothing under AppTest)."""
    return _prepared() if under_a_server() else None


def start_warm_up(url: str, config: str) -> WarmUp | None:
    """One warm-up per server process and database (nothing under AppTest, nor with MTX_APP_WARM_UP=0)."""
    if os.environ.get("MTX_APP_WARM_UP", "1") == "0" or not under_a_server():
        return None
    return _warm_up(url, str(config))
