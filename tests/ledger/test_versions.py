"""Versions as users paste them, normalised, with the API level from the published table."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.ledger.versions import VersionError, normalise_os_version, old_version_after_cutoff


@pytest.mark.parametrize("raw, version, api", [
    ("5.0.0", "5.0.0", 12),
    ("OpenHarmony 5.0.2 Release", "5.0.2", 14),
    ("OpenHarmony-v5.1.0-Release", "5.1.0", 18),
    ("v4.1", "4.1", 11),
    ("OpenHarmony 3.2 Beta5", "3.2", 9),
    ("3.1", "3.1", 8),
    ("4.0.10.1", "4.0.10.1", 10),
    ("5.0", "5.0.0", 12),
    ("５.０.２", "5.0.2", 14),
    ("5.0.3", "5.0.3", 15),
    ("5.0.4", "5.0.4", 16),
    ("OpenHarmony_v6.0_Release", "6.0", 20),
    ("6.1", "6.1", 23),
    ("5.0.5", "5.0.5", None),   # well formed, not in the table: accepted without an API level
])
def test_versions_normalise(raw, version, api):
    parsed = normalise_os_version(raw)
    assert (parsed.version, parsed.api_level) == (version, api)


@pytest.mark.parametrize("raw", ["", "abc", "5", "API 12", "5.0.2 and 5.1.0", "HarmonyOS 4.2 something"])
def test_text_without_one_version_is_refused(raw):
    with pytest.raises(VersionError):
        normalise_os_version(raw)


@pytest.mark.parametrize("version, day, old", [
    ("4.1", dt.date(2025, 7, 1), True),
    ("4.1.2", dt.date(2025, 8, 1), True),
    ("4.1", dt.date(2025, 6, 30), False),
    ("5.0.0", dt.date(2025, 8, 1), False),
])
def test_old_versions_after_the_cutoff(version, day, old):
    assert old_version_after_cutoff(version, day) is old
