"""OpenHarmony versions as users paste them, normalised, with the API level.

`OpenHarmony 5.0.2 Release`, `OpenHarmony-v5.1.0-Release`, `v4.1`, `５.０.２` all become a dotted number; the API level
comes from the published table in docs/reference-policy.md. A well-formed version missing from the table is accepted
without an API level (the importer warns); text with no version in it is an error.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

API_LEVELS: dict[str, int] = {
    "3.1": 8, "3.2": 9, "4.0": 10, "4.1": 11,
    "5.0.0": 12, "5.0.1": 13, "5.0.2": 14, "5.0.3": 15, "5.0.4": 16, "5.1.0": 18,
    "6.0": 20, "6.1": 23,
}
# Since this date new products may not be tested on 4.1.x or older.
OLD_VERSION_CUTOFF = dt.date(2025, 7, 1)
OLD_VERSION_LAST = (4, 1)

_VERSION_RE = re.compile(r"(?<![\d.])v?(\d{1,2}(?:\.\d{1,3}){1,3})(?![\d])", re.IGNORECASE)
_ALLOWED_WORDS = re.compile(r"^(openharmony|oh|ohos|release|beta\d*|lts|sp\d*|canary\d*|版本|api\s*\d+|\s|[-_()（）:：])*$",
                            re.IGNORECASE)


class VersionError(ValueError):
    """The text holds no OpenHarmony version; the message says what was expected."""


@dataclass(frozen=True)
class OsVersion:
    version: str  # e.g. "5.0.2"
    api_level: int | None

    @property
    def key(self) -> tuple[int, ...]:
        return version_key(self.version)


def version_key(version: str) -> tuple[int, ...]:
    """Comparable tuple, padded to four parts: 5.0 == 5.0.0."""
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


def _canonical(numbers: str) -> str:
    parts = [str(int(p)) for p in numbers.split(".")]
    major = int(parts[0])
    if major == 5 and len(parts) == 2:  # 5.x releases are named with three parts: 5.0 is 5.0.0
        parts.append("0")
    return ".".join(parts)


def api_level_for(version: str) -> int | None:
    """API level from the published table: the longest matching prefix (4.0.10.1 -> 4.0 -> 10), None if unknown."""
    parts = version.split(".")
    for n in (len(parts), 3, 2):
        key = ".".join(parts[:n])
        if key in API_LEVELS:
            return API_LEVELS[key]
    return None


def normalise_os_version(raw: object) -> OsVersion:
    """Parse a pasted version. Raises VersionError when no single version is found."""
    text = unicodedata.normalize("NFKC", str(raw if raw is not None else "")).strip()
    if not text:
        raise VersionError("系统版本为空 / the version is empty")
    found = _VERSION_RE.findall(text)
    if len(found) != 1:
        raise VersionError("未找到唯一的版本号 / expected one version number such as 5.0.2, found "
                           + ("none" if not found else ", ".join(found)))
    rest = _VERSION_RE.sub(" ", text)
    if not _ALLOWED_WORDS.match(rest):
        raise VersionError(f"版本号前后有无法识别的文字 {rest.strip()!r} / unexpected text around the version")
    version = _canonical(found[0])
    return OsVersion(version, api_level_for(version))


def old_version_after_cutoff(version: str, pass_date: dt.date) -> bool:
    """True when a certificate passed on or after 2025-07-01 on 4.1.x or older (new products may not be)."""
    return pass_date >= OLD_VERSION_CUTOFF and version_key(version)[:2] <= OLD_VERSION_LAST
