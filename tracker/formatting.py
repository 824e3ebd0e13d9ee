"""Money, dates and times shown one way, in the app, the command line and the exports.

Amounts: 50万元 when a multiple of 10,000 yuan, otherwise 12,345 元. Dates: YYYY-MM-DD. Times: Beijing time, marked
北京时间. Storage stays UTC; a date a user gives (``--as-of 2026-10-31``, a round's data cutoff) is a Beijing date and
means up to 2026-10-31 23:59:59 +08:00: `beijing_day_end` turns it into the UTC instant where that day ends.
"""
from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")
NONE = "—"  # what an absent value shows as


def yuan(amount: int | float | None) -> str:
    """Money as officials write it: 50万元 for whole ten-thousands, otherwise 12,345 元."""
    if amount is None:
        return NONE
    amount = int(amount)
    if amount and amount % 10_000 == 0:
        return f"{amount // 10_000:,}万元"
    return f"{amount:,} 元"


def date_text(value: dt.date | dt.datetime | None) -> str:
    """YYYY-MM-DD; an instant is shown as its Beijing date."""
    if value is None:
        return NONE
    if isinstance(value, dt.datetime):
        value = to_beijing(value).date()
    return value.isoformat()


def time_text(value: dt.datetime | None, *, seconds: bool = False) -> str:
    """An instant in Beijing time: 2026-10-31 22:00 北京时间."""
    if value is None:
        return NONE
    return to_beijing(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " 北京时间"


def when(value: dt.date | dt.datetime | None) -> str:
    """A date as a date, an instant as a Beijing time (freshness captions hold either)."""
    if isinstance(value, dt.datetime):
        return time_text(value)
    return date_text(value)


def age_text(value: dt.datetime | None, now: dt.datetime) -> str:
    """How long ago an instant was, in the largest whole unit: 3 天前, 5 小时前, 12 分钟前 (刚刚 under a minute)."""
    if value is None:
        return NONE
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "刚刚"
    unit, size = next((u, n) for u, n in (("天", 86_400), ("小时", 3_600), ("分钟", 60)) if seconds >= n)
    return f"{int(seconds // size):,} {unit}前"


def to_beijing(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: times are aware UTC")
    return value.astimezone(BEIJING)


def beijing_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Beijing (the machine's own time zone does not matter)."""
    return to_beijing(now or dt.datetime.now(dt.timezone.utc)).date()


def beijing_day_end(day: dt.date) -> dt.datetime:
    """The UTC instant at which the Beijing day `day` ends: "up to 2026-10-31" means before 2026-10-31T16:00:00Z,
    i.e. up to 2026-10-31 23:59:59 +08:00. Use it as an exclusive bound (`at < beijing_day_end(day)`)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), BEIJING).astimezone(dt.timezone.utc)


def parse_user_date(text: str, today: dt.date | None = None) -> dt.date:
    """A date a user typed: YYYY-MM-DD, or 'today' (in Beijing). ValueError otherwise."""
    text = text.strip()
    if text == "today":
        return today or beijing_today()
    return dt.date.fromisoformat(text) if len(text) == 10 else _refuse(text)


def _refuse(text: str) -> dt.date:
    raise ValueError(f"{text!r} is not a date written YYYY-MM-DD")
