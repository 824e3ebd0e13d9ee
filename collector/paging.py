"""The platform-neutral list walk: conditional first page, Link-following, resumable passes, stable URLs.

Why it looks like this:
- Only the *first* page of a list is asked conditionally; its validators are kept in the bookmark under the exact
  URL the next run will build from the cursor. A 304 there means "nothing changed" and costs no quota on GitHub.
- After a pass moves the cursor, the next run's URL differs (``since`` moved); a *settle* pass asks that URL once
  now, so the run after an unchanged day is all 304s. Records it repeats are dropped by key.
- Between pages the bookmark keeps the old cursor and a ``pending`` pass (``next_url``): a crash mid-list resumes
  where it stopped and never skips; the cursor moves only when a pass ends.
- A settle pass only pays off when the server sent validators; without them (Gitee, GitCode) it is skipped.
- Where a list has no 304 to say "unchanged", ``item_key`` + ``recent_window`` remember the items already stored
  inside the look-back overlap (key -> updated time, in the bookmark's ``recent``); the next pass drops those that
  come back unchanged before they are turned into records (so their comments are not fetched again either).
- Every walk ends (:class:`PageGuard`): a next page already fetched in this pass, or with an invalid ``page`` /
  ``per_page``, fails the stream ("pagination loop at URL"); an empty page ends the list whatever the server
  says comes next (Gitee's ``total_page: 1000000000``). The page cap per stream lives in ``collector.base``.
"""

from __future__ import annotations

import urllib.parse
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Hashable, Iterator, Protocol

from collector.bookmarks import Bookmark, Validators
from collector.errors import PaginationLoop
from collector.http import Response, redact_url
from collector.records import Record
from collector.timeutil import iso_z, parse_time


@dataclass
class ListSpec:
    stream: str
    first_url: Callable[[datetime | None], str]  # the first-page URL for a cursor (deterministic)
    to_records: Callable[[list[dict[str, Any]]], list[Record]]
    item_time: Callable[[dict[str, Any]], datetime | None] | None = None  # what moves the cursor
    stop_before: datetime | None = None  # newest-first lists without ``since``: stop at older items
    trust_304_when_paged: bool = True  # False when a change can hide on a later page (e.g. contributors)
    key: Callable[[Record], Hashable] | None = None
    item_key: Callable[[dict[str, Any]], str] | None = None  # with recent_window: skip unchanged overlap items
    recent_window: timedelta | None = None


class ListSource(Protocol):
    def get(self, url: str, validators: Validators | None) -> Response: ...
    def next_url(self, response: Response) -> str | None: ...


_PAGE_NUMBERS = ("page", "per_page", "limit")
_SECRETS = {"access_token", "private_token", "token"}


def page_key(url: str) -> tuple:
    """What makes two page URLs the same page: origin, path and query (sorted, without tokens, page 1 implied)."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in _SECRETS]
    if not any(k == "page" for k, _ in query):
        query.append(("page", "1"))
    return parts.scheme.lower(), parts.netloc.lower(), parts.path, tuple(sorted(query))


class PageGuard:
    """Refuses a next page that would make a walk go round for ever: one already fetched in this pass, or one
    whose ``page``/``per_page`` is not a positive whole number."""

    def __init__(self) -> None:
        self._seen: set[tuple] = set()

    def fetched(self, url: str) -> None:
        self._seen.add(page_key(url))

    def new_pass(self) -> None:
        self._seen.clear()

    def check(self, url: str) -> str:
        """``url`` if it may be fetched next; raises :class:`PaginationLoop` otherwise."""
        query = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
        for name, value in query:
            if name in _PAGE_NUMBERS and not (value.isascii() and value.isdigit() and int(value) >= 1):
                raise PaginationLoop(redact_url(url), f"invalid {name}={value!r}")
        if page_key(url) in self._seen:
            raise PaginationLoop(redact_url(url), "the next page was already fetched in this pass")
        return url


def follow_pages(get: Callable[[str], Response], url: str, next_url: Callable[[Response], str | None]
                 ) -> Iterator[Response]:
    """Every page of a small list (comments, notes, an organisation's repositories) under the same guard; stops
    at a non-200 answer or an empty page."""
    guard = PageGuard()
    following: str | None = url
    while following:
        guard.fetched(following)
        response = get(following)
        yield response
        if response.status != 200 or not response.json():
            return
        following = next_url(response)
        if following:
            guard.check(following)


def walk_list(spec: ListSpec, bookmark: Bookmark, source: ListSource, *, max_settles: int = 2
              ) -> Iterator[tuple[list[Record], Bookmark, bool]]:
    """Yield ``(records, bookmark, final)`` per page; see the module docstring for the contract."""
    # Records repeated by a settle pass or by pages shifting mid-walk are dropped by key. Only the first page of
    # the walk (newest-first lists repeat it) and the last two pages (oldest-first lists repeat those) are
    # remembered, so memory stays flat on a 100,000-commit history; the job's upserts cover anything else.
    head: set[Hashable] = set()
    tail: deque[set[Hashable]] = deque(maxlen=2)
    pages_seen = 0
    cursor = parse_time(bookmark.cursor)
    settles = 0
    pending = bookmark.pending
    if pending:
        url, first_url = pending["next_url"], pending["first_url"]
        first_validators = Validators.from_json(pending.get("first_validators"))
        pass_newest = parse_time(pending.get("new_cursor"))
        pass_recent: dict[str, str] = dict(pending.get("recent") or {})
        send_validators: Validators | None = None
        on_first_page = False
    else:
        url = first_url = spec.first_url(cursor)
        send_validators = bookmark.validators.get(url)
        first_validators, pass_newest, on_first_page = None, None, True
        pass_recent = {}
    known: dict[str, str] = dict(bookmark.recent or {}) if spec.item_key else {}
    # whether the server sends validators at all; a resumed pass knows it only when the first page could keep them
    offered = not pending or first_validators is not None or not spec.trust_304_when_paged
    guard = PageGuard()
    while True:
        guard.fetched(url)
        response = source.get(url, send_validators)
        if response.status == 304:
            kept = {first_url: send_validators} if send_validators else {}
            yield [], bookmark.evolve(pending=None, validators=kept, state=None, checked_at=None), True
            return
        items = response.json() or []
        following = source.next_url(response) if items else None  # an empty page ends the list
        if following:
            guard.check(following)
        if spec.stop_before is not None and spec.item_time is not None:
            fresh = [i for i in items if (t := spec.item_time(i)) is None or t >= spec.stop_before]
            if len(fresh) < len(items):
                following = None
            items = fresh
        if spec.item_time is not None:
            for item in items:
                moment = spec.item_time(item)
                if moment is not None and (pass_newest is None or moment > pass_newest):
                    pass_newest = moment
        if spec.item_key is not None and spec.item_time is not None:
            items = _drop_known(spec, items, known, pass_recent)
        records = spec.to_records(items)
        if spec.key is not None:
            fresh_records, page_keys = [], set()
            for record in records:
                k = spec.key(record)
                if k not in head and k not in page_keys and not any(k in keys for keys in tail):
                    page_keys.add(k)
                    fresh_records.append(record)
            records = fresh_records
            if pages_seen == 0:
                head = page_keys
            tail.append(page_keys)
            pages_seen += 1
        if on_first_page:
            offered = Validators.from_headers(response.headers) is not None
            if following is None or spec.trust_304_when_paged:
                first_validators = Validators.from_headers(response.headers)
            on_first_page = False
        if following:
            state = {"next_url": following, "first_url": first_url,
                     "first_validators": first_validators.to_json() if first_validators else None,
                     "new_cursor": iso_z(pass_newest) if pass_newest else None}
            if spec.item_key is not None:
                state["recent"] = dict(pass_recent)
            yield records, bookmark.evolve(pending=state), False
            url, send_validators = following, None
            continue
        newest = max((t for t in (cursor, pass_newest) if t is not None), default=None)
        done = bookmark.evolve(cursor=iso_z(newest) if newest else None, pending=None, state=None, checked_at=None,
                               validators={first_url: first_validators} if first_validators else {})
        if spec.item_key is not None and spec.recent_window is not None:
            done = done.evolve(recent=_recent(known, pass_recent, newest, spec.recent_window) or None)
            known = dict(done.recent or {})
        again = spec.first_url(newest)
        if again != first_url and settles < max_settles and offered:
            settles += 1
            yield records, done, False
            bookmark, cursor = done, newest
            url = first_url = again
            send_validators, first_validators, pass_newest, on_first_page = None, None, None, True
            pass_recent = {}
            guard.new_pass()
            continue
        yield records, done, True
        return


def _drop_known(spec: ListSpec, items: list[dict[str, Any]], known: dict[str, str],
                pass_recent: dict[str, str]) -> list[dict[str, Any]]:
    """Note every item's (key, time) for the next bookmark; return those not already stored unchanged."""
    fresh = []
    for item in items:
        moment = spec.item_time(item) if spec.item_time else None
        key = spec.item_key(item) if spec.item_key else None
        stamp = iso_z(moment) if moment else None
        if key is not None and stamp is not None:
            pass_recent[key] = stamp
            if known.get(key) == stamp:
                continue
        fresh.append(item)
    return fresh


def _recent(known: dict[str, str], seen: dict[str, str], newest: datetime | None,
            window: timedelta) -> dict[str, str]:
    """Keys inside the overlap before ``newest``: the items a pass starting there would ask again."""
    if newest is None:
        return {}
    start = newest - window
    merged = {**known, **seen}
    return {k: t for k, t in sorted(merged.items()) if (moment := parse_time(t)) is not None and moment >= start}
