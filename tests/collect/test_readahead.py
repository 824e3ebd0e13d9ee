"""ReadAhead (the job reads the next git page while it stores one): same pages in the same order, at most one page
waiting, the producer's exceptions raised where the pages end, and closing early stops the producer and closes the
fetch's generator (which ends its ``git log``)."""
from __future__ import annotations

import threading
import time

import pytest

from collector.base import Fetch, StreamPartial
from collector.bookmarks import Bookmark
from tracker.collect.readahead import ReadAhead


class Pages:
    """A generator of ``n`` pages that records how far it got and whether it was closed."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.produced = 0
        self.closed = threading.Event()
        self.thread: str | None = None

    def __iter__(self):
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise StreamPartial("commits", i)
                self.produced = i + 1
                self.thread = threading.current_thread().name
                yield i
        finally:
            self.closed.set()


def test_the_same_pages_in_the_same_order_from_another_thread():
    source = Pages(50)
    assert list(ReadAhead(iter(source))) == list(range(50))
    assert source.closed.is_set() and source.thread != threading.current_thread().name


def test_at_most_one_page_waits_beside_the_one_being_read():
    source = Pages(100)
    reader = ReadAhead(iter(source), depth=1)
    assert next(reader) == 0
    deadline = time.monotonic() + 10
    while source.produced < 3 and time.monotonic() < deadline:  # the producer runs ahead as far as it may
        time.sleep(0.01)
    time.sleep(0.3)  # and no further
    # page 0 handed out, page 1 waiting in the queue, page 2 produced and waiting to be put
    assert source.produced == 3
    reader.close()
    assert source.closed.wait(2)
    assert source.produced == 3


def test_what_the_producer_raises_comes_after_the_pages_before_it():
    reader = ReadAhead(iter(Pages(10, fail_at=4)))
    got = []
    with pytest.raises(StreamPartial):
        for page in reader:
            got.append(page)
    assert got == [0, 1, 2, 3]
    with pytest.raises(StopIteration):
        next(reader)


def test_closing_a_fetch_early_closes_its_generator_in_the_producer_thread():
    source = Pages(1000)
    fetch = Fetch("commits", Bookmark(stream="commits"),
                  lambda stats: ((([page], Bookmark(stream="commits"), False)) for page in source))
    reader = ReadAhead(fetch)
    first = next(reader)
    assert first.records == (0,)
    reader.close()
    assert source.closed.wait(2)
    assert source.produced < 1000
