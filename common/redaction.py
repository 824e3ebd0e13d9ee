"""Masking secrets in text: the one implementation the collector, the collection job and the configuration use.

Three kinds of secret reach messages: token values (a client library's exception may quote a request), tokens in a
query string (Gitee and GitCode take ``access_token`` there, and echo it in Link headers), and credentials written
into a URL (``https://user:token@host``). Each is replaced by ``***``.
"""
from __future__ import annotations

import logging
import re
import urllib.parse
from typing import Iterable

MASK = "***"

TOKEN_PARAMETERS = re.compile(r"(?i)^(access_token|private_token|token|client_secret)$")
_TOKEN_IN_TEXT = re.compile(r"(?i)\b(access_token|private_token|client_secret)=[^&\s'\">;,]+")
# scheme://userinfo@ -- the userinfo runs to the last @ before the path, whitespace or a quote
_CREDENTIALS_IN_TEXT = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s'\"]+@")


def redact_url(url: str) -> str:
    """The URL with its user name and password and its token-bearing query parameters replaced by ***."""
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # not a URL we can take apart: mask what looks like a secret in it
        return redact_text(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=f"{MASK}@" + parts.netloc.rpartition("@")[2])
    if parts.query:
        query = [(k, MASK if TOKEN_PARAMETERS.match(k) else v)
                 for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
        parts = parts._replace(query=urllib.parse.urlencode(query, safe="*"))
    return urllib.parse.urlunsplit(parts)


def redact_text(text: str) -> str:
    """Free text with every URL's credentials and every ``access_token=...`` value replaced by ***."""
    text = _CREDENTIALS_IN_TEXT.sub(rf"\g<scheme>{MASK}@", text)
    return _TOKEN_IN_TEXT.sub(rf"\1={MASK}", text)


class SecretScrubber:
    """Replaces every known secret value in a text, longest first; values shorter than 4 characters are ignored
    (masking "a" would make every message unreadable and protects nothing)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return redact_text(text)


class RedactingLogFilter(logging.Filter):
    """Masks tokens in log records of client libraries (httpcore's DEBUG trace prints response headers verbatim,
    and Gitee echoes the token into its Link headers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
