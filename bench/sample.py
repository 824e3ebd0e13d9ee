"""Benchmark: build the sample at several scales; time, peak memory (RSS of a child process) and row counts.

    python -m bench.sample                 # scales 1 and 10 on SQLite
    python -m bench.sample --scales 1,100  # the issue's figures (scale 100 takes a few minutes)
    python -m bench.sample --pg postgresql://mtx:mtx@127.0.0.1/postgres   # also on PostgreSQL
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from tracker import db
from tracker.sample import build_sample
url, scale = sys.argv[1], int(sys.argv[2])
db.upgrade(url)
started = time.perf_counter()
summary = build_sample(url, scale=scale)
print(json.dumps({"seconds": time.perf_counter() - started, "counts": summary.counts,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


BUILD_ONLY = r"""
import sys
from tracker import db
from tracker.sample import build_sample
url, scale = sys.argv[1], int(sys.argv[2])
db.upgrade(url)
print(build_sample(url, scale=scale).counts["commits"])
"""


def build_in_child(url: str, scale: int) -> int:
    """Build the sample at ``url`` in a child process (its memory is not the measurer's); returns its commits."""
    out = subprocess.run([sys.executable, "-c", BUILD_ONLY, url, str(scale)], check=True, capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parents[1])
    return int(out.stdout.strip().splitlines()[-1])


def run_one(url: str, scale: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, url, str(scale)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def pg_database(admin_url: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tracker.db import normalise_url

    name = f"mtx_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return make_url(normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--pg", default=None, help="PostgreSQL admin URL to also build there")
    args = parser.parse_args(argv)
    rows = []
    for scale in [int(s) for s in args.scales.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_one(f"sqlite:///{Path(tmp) / 'bench.db'}", scale)
            rows.append(("sqlite", scale, result))
        if args.pg:
            url, drop = pg_database(args.pg)
            try:
                rows.append(("postgresql", scale, run_one(url, scale)))
            finally:
                drop()
    print(f"{'backend':<11} {'scale':>5} {'seconds':>8} {'peak MB':>8} {'communities':>11} {'repos':>7} "
          f"{'commits':>10} {'issues':>8} {'pulls':>8} {'rows/s':>9}")
    for backend, scale, r in rows:
        c = r["counts"]
        total = sum(c.values())
        print(f"{backend:<11} {scale:>5} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f} {c['communities']:>11,} "
              f"{c['repositories']:>7,} {c['commits']:>10,} {c['issues']:>8,} {c['pull_requests']:>8,} "
              f"{total / r['seconds']:>9,.0f}")


if __name__ == "__main__":
    main()
