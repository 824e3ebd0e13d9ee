"""One page ahead: a fetch's pages produced by a thread while the job stores the previous one.

A git listing is CPU work in Python (parsing ``git log``), storing a page is mostly the database's own work (SQLite's
``sqlite3_step`` and the commit's fsync run without the GIL; PostgreSQL works in its server process), so the two
overlap on two cores. At most ``depth`` pages wait in the queue: memory stays bounded whatever the history's length.
Kill safety is unchanged: a page is stored with its bookmark in one transaction; a page read ahead and not stored is
read again by the next run. Whatever the producer raises (``StreamPartial``, a git failure) is raised to the consumer
at the point it would have been without the thread; closing the reader stops the producer and closes the fetch's
generator in the producer's own thread (ending its ``git log``).
"""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

_PAGE, _END, _ERROR = "page", "end", "error"


class ReadAhead(Iterator[T]):
    def __init__(self, pages: Iterable[T], depth: int = 1, name: str = "read-ahead") -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(pages,), name=name, daemon=True)
        self._thread.start()

    def _produce(self, pages: Iterable[T]) -> None:
        iterator = iter(pages)
        try:
            for page in iterator:
                if not self._put((_PAGE, page)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((_ERROR, exc))
        finally:
            close = getattr(iterator, "close", None)  # a generator, or a collector.base.Fetch
            if close is not None:
                try:
                    close()
                except Exception:  # closing must not hide what the consumer gets
                    pass

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> "ReadAhead[T]":
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        while True:
            try:
                kind, value = self._queue.get(timeout=0.5)
                break
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    self._finished = True
                    raise RuntimeError("the read-ahead thread ended without a last page") from None
        if kind == _PAGE:
            return value
        self._finished = True
        if kind == _END:
            raise StopIteration
        raise value

    def close(self) -> None:
        """Stop the producer and wait for it (it finishes the page it is reading, then closes the fetch)."""
        self._finished = True
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> "ReadAhead[T]":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
