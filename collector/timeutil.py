"""Turn the platforms' many timestamp spellings into aware UTC datetimes, on the way in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

UTC = timezone.utc
CHINA = timezone(timedelta(hours=8))


def parse_time(value: str | int | float | None, *, naive_zone: timezone = UTC) -> datetime | None:
    """Parse ISO 8601 (``Z``, ``+08:00``, ``.000Z``, no zone) or epoch seconds; None stays None.

    Zone-less text is read in ``naive_zone`` (UTC by default; GitCode's zone-less times are Beijing time).
    """
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_zone)
    return moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """``2024-05-01T08:00:00Z``: the spelling GitHub's ``since`` accepts (always converted to UTC first)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
