"""`mtx sample --as-of 2026-06-30` is a Beijing date: the sample covers that whole day, up to 23:59:59 +08:00."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text

from tracker import db as dbm
from tracker.cli import main

CONFIG = Path(__file__).resolve().parents[2] / "config"
UTC = dt.timezone.utc
END = dt.datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 2026-07-01 00:00 in Beijing
LAST_DAY_STARTS_UTC = dt.datetime(2026, 6, 30, 0, 0, tzinfo=UTC)  # 08:00 on the last day, in Beijing


def _aware(value) -> dt.datetime:
    value = dt.datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_as_of_is_a_beijing_date_through_the_mtx_command(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'asof.db'}"
    code = main(["--db", url, "--config", str(CONFIG), "--as", "office", "sample", "--as-of", "2026-06-30"])
    assert code == 0, capsys.readouterr().err
    with dbm.get_engine(url).connect() as conn:
        times = [_aware(t) for (t,) in conn.execute(text("SELECT author_time FROM commits"))]
        last_snapshot = conn.execute(text("SELECT MAX(taken_on) FROM repository_snapshots")).scalar()
        finished = _aware(conn.execute(text("SELECT MAX(finished_at) FROM collection_runs")).scalar())
    dbm.dispose_engine(url)
    assert max(times) < END  # nothing after 2026-06-30 23:59:59 +08:00
    assert any(t >= LAST_DAY_STARTS_UTC for t in times)  # the Beijing day's last 16 hours are in it too
    assert str(last_snapshot) == "2026-06-30"
    assert END < finished <= END + dt.timedelta(hours=1)  # collected just after the day ended: complete as of it


def test_the_help_says_dates_are_beijing_dates(capsys):
    for command in (["sample"], ["certs", "balance"]):
        assert main([*command, "--help"]) == 0
        assert "北京时间" in " ".join(capsys.readouterr().out.split()), command
    main(["sample", "--help"])
    assert "23:59:59 +08:00" in " ".join(capsys.readouterr().out.split())


def test_a_date_not_written_yyyy_mm_dd_is_bad_usage(tmp_path, capsys):
    code = main(["--db", f"sqlite:///{tmp_path / 'x.db'}", "sample", "--as-of", "2026/06/30"])
    assert code == 2 and "YYYY-MM-DD" in capsys.readouterr().err
