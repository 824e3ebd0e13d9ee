"""Run a collector the way the job will: page by page, keeping the bookmark of each page (as JSON text)."""

from __future__ import annotations

from collector import STREAMS


def collect(github, path, bookmarks=None, streams=STREAMS):
    """Collect ``streams`` of ``path``; returns ({stream: [records]}, {stream: bookmark_json}, {stream: stats})."""
    bookmarks = dict(bookmarks or {})
    records, stats = {}, {}
    repo = github.repository(path)
    for stream in streams:
        run = repo.fetch(stream, bookmarks.get(stream))
        records[stream] = []
        for page in run:
            records[stream].extend(page.records)
            bookmarks[stream] = page.bookmark.dumps()  # what the job stores with the page, in one transaction
        stats[stream] = run.stats
    return records, bookmarks, stats


def collect_many(github, paths, bookmarks=None):
    bookmarks = dict(bookmarks or {})
    everything = {}
    for path in paths:
        everything[path], bookmarks[path], _ = collect(github, path, bookmarks.get(path))
    return everything, bookmarks
