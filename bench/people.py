"""Benchmark: identity resolution on the sample at several scales, against one count-distinct query.

    python -m bench.people                     # scales 1 and 10 on SQLite
    python -m bench.people --scales 1,10,100   # the issue's figures (building scale 100 takes minutes)
    python -m bench.people --pg postgresql://mtx:mtx@127.0.0.1/postgres   # also on PostgreSQL

For each scale the sample is built once; then, each in a fresh child process (peak RSS is the child's):
`SELECT count(DISTINCT author_email) FROM commits` (the yardstick), a full resolution from no people at all, and an
incremental resolution with nothing new. Time and peak memory are printed as multiples of the yardstick's; goal ≤ 3×.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.sample import pg_database

BUILD = r"""
import sys
from tracker import db
from tracker.sample import build_sample
url, scale = sys.argv[1], int(sys.argv[2])
db.upgrade(url)
summary = build_sample(url, scale=scale)
print(summary.counts["commits"])
"""

MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
from sqlalchemy import text
from tracker import db
from tracker.access import SYSTEM
url, what = sys.argv[1], sys.argv[2]
if what == "count":
    with db.get_engine(url).connect() as conn:
        started = time.perf_counter()
        conn.execute(text("SELECT count(DISTINCT author_email) FROM commits")).scalar()
        seconds = time.perf_counter() - started
    info = {}
else:
    import yaml
    from tracker.config import IdentitiesFile, OrganisationsFile
    from tracker.people.resolve import resolve_people
    config = Path(sys.argv[3])
    identities = IdentitiesFile.model_validate(yaml.safe_load((config / "identities.yaml").read_text()) or {})
    organisations = OrganisationsFile.model_validate(yaml.safe_load((config / "organisations.yaml").read_text()) or {})
    if what == "full":
        with db.session_scope(url) as s:  # no people at all: every identity and account is resolved anew
            s.execute(text("DELETE FROM people"))
    started = time.perf_counter()
    with db.session_scope(url) as s:
        report = resolve_people(s, SYSTEM, identities, organisations)
    seconds = time.perf_counter() - started
    info = {"people": report.people, "identities": report.identities, "created": len(report.created),
            "changed": len(report.changed)}
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **info}))
"""

CONFIG = Path(__file__).resolve().parents[1] / "config"


def child(code: str, *args: str) -> dict | str:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    last = out.stdout.strip().splitlines()[-1]
    return json.loads(last) if last.startswith("{") else last


def measure(url: str, scale: int) -> dict:
    commits = int(child(BUILD, url, str(scale)))
    count = child(MEASURE, url, "count")
    full = child(MEASURE, url, "full", str(CONFIG))
    again = child(MEASURE, url, "again", str(CONFIG))
    return {"commits": commits, "count": count, "full": full, "again": again}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--pg", default=None, help="PostgreSQL admin URL to also measure there")
    args = parser.parse_args(argv)
    rows = []
    for scale in [int(s) for s in args.scales.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(("sqlite", scale, measure(f"sqlite:///{Path(tmp) / 'bench.db'}", scale)))
        if args.pg:
            url, drop = pg_database(args.pg)
            try:
                rows.append(("postgresql", scale, measure(url, scale)))
            finally:
                drop()
    print(f"{'backend':<11} {'scale':>5} {'commits':>9} {'identities':>10} {'people':>7} {'count s':>8} "
          f"{'full s':>7} {'×':>5} {'again s':>8} {'×':>5} {'count MB':>8} {'full MB':>8} {'×':>5} {'again MB':>8} "
          f"{'×':>5}")
    for backend, scale, r in rows:
        c, f, a = r["count"], r["full"], r["again"]
        print(f"{backend:<11} {scale:>5} {r['commits']:>9,} {f['identities']:>10,} {f['people']:>7,} "
              f"{c['seconds']:>8.2f} {f['seconds']:>7.2f} {f['seconds'] / c['seconds']:>5.1f} "
              f"{a['seconds']:>8.2f} {a['seconds'] / c['seconds']:>5.1f} {c['peak_mb']:>8.0f} {f['peak_mb']:>8.0f} "
              f"{f['peak_mb'] / c['peak_mb']:>5.1f} {a['peak_mb']:>8.0f} {a['peak_mb'] / c['peak_mb']:>5.1f}")


if __name__ == "__main__":
    main()
