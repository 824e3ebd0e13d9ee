"""Codes and numbers as they are matched: one spelling for what a person would call the same identifier.

A certificate number or 统一社会信用代码 pasted from a PDF or typed on a Chinese keyboard may be full-width, carry
invisible zero-width characters or surrounding spaces, or differ only in case; each must still find its ASCII twin.
Both identifiers are case-free (the codes are upper case by standard, certificate numbers are issued in upper case),
so they are compared, and stored, in NFKC, trimmed, without zero-width characters, in upper case.
"""
from __future__ import annotations

import re
import unicodedata

# zero-width and other invisible format characters that copy-paste carries along (ZWSP, ZWNJ, ZWJ, word joiner,
# BOM / ZWNBSP, soft hyphen, Mongolian vowel separator)
ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")


def normalise_code(text: object) -> str:
    """A certificate number or 统一社会信用代码 as matched and stored: NFKC, no zero-width characters, trimmed,
    upper case. `ＯＨ-ｔｅｓｔ-０１\u200b ` -> `OH-TEST-01`."""
    s = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return ZERO_WIDTH.sub("", s).strip().upper()
