"""The platform-neutral list walk: conditional first page, Link-following, resumable passes, stable URLs.

Why it looks like this:
- Only the *first* page of a list is asked conditionally; its validators are kept in the bookmark under the exact
  URL the next run will build from the cursor. A 304 there means "nothing changed" and costs no quota on GitHub.
- After a pass moves the cursor, the next run's URL differs (``since`` moved); a *settle* pass asks that URL once
  now, so the run after an unchanged day is all 304s. Records it repeats are dropped by key.
- Between pages the bookmark keeps the old cursor and a ``pending`` pass (``next_url``): a crash mid-list resumes
  where it stopped and never skips; the cursor moves only when a pass ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Hashable, Iterator, Protocol

from collector.bookmarks import Bookmark, Validators
from collector.http import Response
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


class ListSource(Protocol):
    def get(self, url: str, validators: Validators | None) -> Response: ...
    def next_url(self, response: Response) -> str | None: ...


def walk_list(spec: ListSpec, bookmark: Bookmark, source: ListSource, *, max_settles: int = 2
              ) -> Iterator[tuple[list[Record], Bookmark, bool]]:
    """Yield ``(records, bookmark, final)`` per page; see the module docstring for the contract."""
    seen: set[Hashable] = set()
    cursor = parse_time(bookmark.cursor)
    settles = 0
    pending = bookmark.pending
    if pending:
        url, first_url = pending["next_url"], pending["first_url"]
        first_validators = Validators.from_json(pending.get("first_validators"))
        pass_newest = parse_time(pending.get("new_cursor"))
        send_validators: Validators | None = None
        on_first_page = False
    else:
        url = first_url = spec.first_url(cursor)
        send_validators = bookmark.validators.get(url)
        first_validators, pass_newest, on_first_page = None, None, True
    while True:
        response = source.get(url, send_validators)
        if response.status == 304:
            kept = {first_url: send_validators} if send_validators else {}
            yield [], bookmark.evolve(pending=None, validators=kept, state=None, checked_at=None), True
            return
        items = response.json() or []
        following = source.next_url(response)
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
        records = spec.to_records(items)
        if spec.key is not None:
            fresh_records = []
            for record in records:
                k = spec.key(record)
                if k not in seen:
                    seen.add(k)
                    fresh_records.append(record)
            records = fresh_records
        if on_first_page:
            if following is None or spec.trust_304_when_paged:
                first_validators = Validators.from_headers(response.headers)
            on_first_page = False
        if following:
            state = {"next_url": following, "first_url": first_url,
                     "first_validators": first_validators.to_json() if first_validators else None,
                     "new_cursor": iso_z(pass_newest) if pass_newest else None}
            yield records, bookmark.evolve(pending=state), False
            url, send_validators = following, None
            continue
        newest = max((t for t in (cursor, pass_newest) if t is not None), default=None)
        done = bookmark.evolve(cursor=iso_z(newest) if newest else None, pending=None, state=None, checked_at=None,
                               validators={first_url: first_validators} if first_validators else {})
        again = spec.first_url(newest)
        if again != first_url and settles < max_settles:
            settles += 1
            yield records, done, False
            bookmark, cursor = done, newest
            url = first_url = again
            send_validators, first_validators, pass_newest, on_first_page = None, None, None, True
            continue
        yield records, done, True
        return
