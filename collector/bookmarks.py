"""The bookmark: what a collector needs to resume one stream of one repository, as a small JSON object.

The job stores it in the same transaction as the records of the page it came with. Format (version 1)::

    {"v": 1, "stream": "issues", "cursor": "2024-05-01T08:00:00Z",
     "validators": {"<first-page URL>": {"etag": "W/\\"..\\"", "last_modified": "Wed, 01 May 2024 08:00:00 GMT"}},
     "location": "repositories/123456",        # where a moved repository now answers (saves the 301)
     "pending": {"next_url": "...", "new_cursor": "...", "first_url": "...", "first_validators": {...}},
     "state": "empty" | "gone" | null, "checked_at": "2024-05-01T08:00:00Z",
     "fingerprint": "pushed_at=2024-05-01T08:00:00Z",   # optional: what the stream was collected against
     "recent": {"I1DACG": "2024-05-01T07:55:00Z"}}      # optional: items already stored inside the overlap

``cursor`` is the newest time seen (commits: committer time; issues and pulls: ``updated_at``); the next request
starts a small overlap before it. ``pending`` is an unfinished pass (resume from its ``next_url``); the cursor moves
only when a pass completes, so a crash between pages never skips data.

``fingerprint`` lets a platform skip a stream whose source cannot have changed (Gitee/GitCode: the repository's
``pushed_at`` gates commits and contributors; GitLab: the commits list's ETag gates contributors). ``recent`` maps
the keys of items seen inside the look-back overlap to their ``updated_at``, so an unchanged item the overlap asks
again is not re-emitted (and its comments are not fetched again) where the platform has no 304 to say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Mapping


@dataclass(frozen=True)
class Validators:
    """HTTP cache validators of one URL, sent back as If-None-Match / If-Modified-Since."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in (("etag", self.etag), ("last_modified", self.last_modified)) if v}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "Validators | None":
        if not data:
            return None
        return cls(etag=data.get("etag"), last_modified=data.get("last_modified"))

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> "Validators | None":
        found = cls(etag=headers.get("etag"), last_modified=headers.get("last-modified"))
        return found or None


@dataclass(frozen=True)
class Bookmark:
    stream: str
    cursor: str | None = None
    validators: Mapping[str, Validators] = field(default_factory=dict)
    location: str | None = None
    pending: Mapping[str, Any] | None = None
    state: str | None = None  # "empty" | "gone" | None
    checked_at: str | None = None
    fingerprint: str | None = None
    recent: Mapping[str, str] | None = None

    VERSION = 1

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"v": self.VERSION, "stream": self.stream, "cursor": self.cursor,
                                "validators": {url: v.to_json() for url, v in self.validators.items()}}
        for name in ("location", "pending", "state", "checked_at", "fingerprint", "recent"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | None, stream: str) -> "Bookmark":
        """Read what ``to_json``/``dumps`` wrote; None (or another stream's bookmark) means start afresh."""
        if data is None:
            return cls(stream=stream)
        if isinstance(data, str):
            data = json.loads(data)
        if data.get("stream", stream) != stream:
            raise ValueError(f"bookmark is for stream {data.get('stream')!r}, not {stream!r}")
        validators = {url: v for url, raw in (data.get("validators") or {}).items()
                      if (v := Validators.from_json(raw)) is not None}
        return cls(stream=stream, cursor=data.get("cursor"), validators=validators, location=data.get("location"),
                   pending=data.get("pending"), state=data.get("state"), checked_at=data.get("checked_at"),
                   fingerprint=data.get("fingerprint"), recent=data.get("recent"))

    def evolve(self, **changes: Any) -> "Bookmark":
        return replace(self, **changes)


def as_bookmark(value: "Bookmark | Mapping[str, Any] | str | None", stream: str) -> Bookmark:
    if isinstance(value, Bookmark):
        if value.stream != stream:
            raise ValueError(f"bookmark is for stream {value.stream!r}, not {stream!r}")
        return value
    return Bookmark.from_json(value, stream)
