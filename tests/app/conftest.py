from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def clear_streamlit_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


class FakeClock:
    """Stands in for `tracker.users.clock`: aware UTC time that moves only when a test advances it."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """Sign-in throttling reads the time from `tracker.users.clock`; this replaces it so no test sleeps."""
    import tracker.users

    fake = FakeClock()
    monkeypatch.setattr(tracker.users, "clock", fake, raising=False)
    if hasattr(tracker.users, "_UnknownNames"):  # names without an account: fresh memory, as after a restart
        monkeypatch.setattr(tracker.users, "_unknown_names", tracker.users._UnknownNames(100))
    return fake
