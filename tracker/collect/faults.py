"""Crash points for the kill tests: `MTX_FAULT_KILL_AT=stream:point:n` makes the process SIGKILL itself.

`point` is `before_store` (page fetched, nothing written), `after_store` (page written, transaction not committed)
or `after_commit` (page and bookmark committed); `n` counts pages of that stream in this process, from 1. Unset in
production; reading one environment variable per page costs nothing measurable.
"""
from __future__ import annotations

import os
import signal
import threading
from collections import Counter

_counts: Counter = Counter()
_lock = threading.Lock()


def checkpoint(stream: str, point: str) -> None:
    spec = os.environ.get("MTX_FAULT_KILL_AT")
    if not spec:
        return
    want_stream, want_point, want_n = spec.split(":")
    if (stream, point) != (want_stream, want_point):
        return
    with _lock:
        _counts[(stream, point)] += 1
        hit = _counts[(stream, point)] == int(want_n)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
