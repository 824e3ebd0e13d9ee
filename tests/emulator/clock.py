"""A fake clock shared by the emulator and the code under test, so hour-long rate-limit resets take no time."""

from __future__ import annotations

import threading


class FakeClock:
    """``now()`` returns epoch seconds; ``sleep(s)`` advances them instead of blocking and records the request."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
