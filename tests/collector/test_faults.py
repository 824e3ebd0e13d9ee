"""Faults end in the same data as a clean run: 502 bursts, timeouts, truncated bodies, secondary limits."""

from __future__ import annotations

from tests.collector.helpers import collect

PATHS = ("acme/big", "acme/old-name")


def clean_and_faulty(make_github, emulator, inject):
    clean = {p: collect(make_github(), p)[0] for p in PATHS}
    inject(emulator)
    faulty = {p: collect(make_github(), p)[0] for p in PATHS}
    return clean, faulty


def test_502_bursts_end_in_the_same_data(make_github, emulator):
    def inject(emu):
        emu.inject("status", path="/commits$", times=3, skip=2, status=502)
        emu.inject("status", path="/issues$", times=2, status=503)
        emu.inject("status", path="/pulls$", times=1, status=500)
    clean, faulty = clean_and_faulty(make_github, emulator, inject)
    assert faulty == clean
    assert sum(e.status in (500, 502, 503) for e in emulator.log) == 6


def test_truncated_bodies_end_in_the_same_data(make_github, emulator):
    def inject(emu):
        emu.inject("truncate", path="/commits$", times=2, skip=3)
        emu.inject("truncate", path="/contributors$")
        emu.inject("truncate", path="/acme/big$")
    clean, faulty = clean_and_faulty(make_github, emulator, inject)
    assert faulty == clean
    assert sum(e.fault == "truncate" for e in emulator.log) == 4


def test_timeouts_end_in_the_same_data(make_github, emulator):
    clean = collect(make_github(), "acme/unlinked")[0]
    emulator.inject("delay", path="/commits$", seconds=0.6, times=2)
    emulator.inject("delay", path="/releases$", seconds=0.6)
    faulty, _, stats = collect(make_github(timeout=0.2), "acme/unlinked")
    assert faulty == clean
    assert stats["commits"].retries == 2 and stats["releases"].retries == 1


def test_secondary_limits_end_in_the_same_data(make_github, emulator, clock):
    def inject(emu):
        emu.inject("secondary", path="/commits$", skip=4, retry_after=30)
        emu.inject("secondary", path="/pulls$")
    clean, faulty = clean_and_faulty(make_github, emulator, inject)
    assert faulty == clean
    assert 30 in clock.sleeps and any(s >= 60 for s in clock.sleeps)


def test_retries_give_up_with_a_clear_error(make_github, emulator):
    import pytest
    from collector import RetriesExhausted
    emulator.inject("status", path="/releases$", times=50, status=502)
    with pytest.raises(RetriesExhausted, match="GET /repos/acme/big/releases"):
        collect(make_github(max_retries=3), "acme/big", streams=["releases"])
