"""No token text in any log line, exception, record or bookmark — whatever happens on the way."""

from __future__ import annotations

import logging

import pytest

from collector import CollectorError
from tests.collector.conftest import REPOS, TOKENS
from tests.collector.helpers import collect


def test_tokens_never_appear_in_logs_errors_records_or_bookmarks(make_github, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="github")  # PyGithub's own log of every request (it pins INFO)
    emulator.inject("status", path="/commits$", times=2, status=502)
    emulator.inject("truncate", path="/releases$")
    emulator.inject("secondary", path="/pulls$", retry_after=5)
    emulator.set_remaining(TOKENS[0][1], 1, reset_in=60)
    texts = []
    github = make_github()
    for path in REPOS:
        records, bookmarks, stats = collect(github, path)
        texts += [repr(records), repr(bookmarks), repr(stats)]
    errors = []
    for tokens, kwargs in (([("MTX_TEST_BAD", "ghp_SECRETcccccccccccccccccccccccccccccc3")], {}),
                           (TOKENS, {"max_wait": 1})):
        if kwargs:
            for _, value in TOKENS:
                emulator.set_remaining(value, 0, reset_in=3600)
        with pytest.raises(CollectorError) as caught:
            collect(make_github(tokens, **kwargs), "acme/big", streams=["commits"])
        errors.append(caught.value)
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + [repr(github.pool.credentials)]
    texts += [record.getMessage() for record in caplog.records]
    texts.append(caplog.text)
    everything = "\n".join(texts)
    assert "ghp_SECRET" not in everything
    assert "MTX_TEST_BAD" in everything and "MTX_TEST_GH_TOKEN_A" in everything
    assert len(caplog.records) > 10, "the log was captured"


def test_pygithub_debug_log_is_part_of_what_the_grep_sees(make_github, caplog):
    caplog.set_level(logging.DEBUG, logger="github")
    collect(make_github(), "acme/unlinked", streams=["repo"])
    requests_logged = [r for r in caplog.records if r.name.startswith("github")]
    assert requests_logged and "Authorization" in caplog.text  # the header is logged, masked by PyGithub
    assert "ghp_SECRET" not in caplog.text
