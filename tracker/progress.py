"""Progress for long work: a bar on a terminal, plain log lines otherwise (cron, CI, pipes)."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def progress_reporter(title: str, stream=None) -> Iterator[Callable[[str, int, int], None]]:
    """Yields `report(stage, done, total)`. On a TTY draws rich bars; otherwise logs each stage at most every 5 s."""
    stream = stream or sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        tasks: dict[str, int] = {}
        with Progress(TextColumn(f"{title} [bold]{{task.description}}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=Console(file=stream), transient=False) as bar:
            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=max(total, 1))
                bar.update(tasks[stage], completed=min(done, max(total, 1)), total=max(total, 1))

            yield report
        return
    last: dict[str, float] = {}

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last.get(stage, 0) >= 5:
            last[stage] = now
            print(f"{title}: {stage} {done}/{total}", file=stream, flush=True)

    yield report
