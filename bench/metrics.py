"""Benchmark: the read path (`mtx metrics`, the overview, `mtx status --communities`) against one scan of the commits.

    python -m bench.metrics                        # scales 1 and 10 on SQLite
    python -m bench.metrics --scales 1,10,100      # the issue's figures (building scale 100 takes many minutes)
    python -m bench.metrics --pg postgresql://mtx:mtx@127.0.0.1/postgres   # also on PostgreSQL (a throw-away database)
    python -m bench.metrics --json                 # the raw numbers instead of the table

For each scale and database the sample is built once (`tracker.sample.build_sample` after `tracker.db.upgrade`). Each
operation then runs in three fresh child processes, so that a child's peak RSS (``ru_maxrss``) is that operation's
and not the build's or another operation's:

- floor: ``SELECT count(*), count(DISTINCT author_email) FROM commits`` on a connection opened beforehand — one plain
  scan of the commits table, the yardstick the issue's goals are multiples of;
- metrics: ``tracker.cli.main(["--db", URL, "--config", "config", "--as", "bench", "metrics", "--as-of",
  "2026-10-31", "--format", "json"])`` with stdout redirected to a buffer — the command itself (schema check,
  configuration, every community, every signal, the JSON), less interpreter start-up;
- overview: ``tracker.overview.overview(session, Actor("bench", "admin"))`` in a fresh session;
- status: ``tracker.cli.main(["--db", URL, "--as", "bench", "status", "--communities", "--json"])``, likewise.

Each child imports what it needs and opens the engine first, then calls the operation once untimed (the warm-up:
imports done inside the command, SQLAlchemy's statement cache, and for metrics any first-read aggregate build) and
then once timed; only that second call is the operation's time. The warm-up time is reported too ("first s": the
first child's, which is the one that would build missing aggregates). The table gives the median of the three timed
calls, the largest peak RSS of the three children, the median as a multiple of the floor's median, and the goal
(metrics ≤ 3×, overview ≤ 1×, status ≤ 1×); then, per database, each operation's growth between consecutive scales,
whose goal is no worse than linear (≤ 10× from scale 10 to 100). The machine's load average is printed, since
wall times on a shared machine depend on it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.sample import build_in_child, pg_database

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
AS_OF = "2026-10-31"  # the sample's last day
RUNS = 3
OPERATIONS = ("floor", "metrics", "overview", "status")
GOALS = {"metrics": 3.0, "overview": 1.0, "status": 1.0}  # seconds ÷ floor seconds, at most

MEASURE = r"""
import contextlib, io, json, resource, sys, time
from sqlalchemy import text
from tracker import db
url, what, config, as_of = sys.argv[1:5]
db.get_engine(url).connect().close()  # connecting is no part of any operation (nor of the floor)
info = {}
if what == "floor":
    conn = db.get_engine(url).connect()
    def operation():
        total, authors = conn.execute(text("SELECT count(*), count(DISTINCT author_email) FROM commits")).one()
        info.update(commits=total, author_emails=authors)
elif what == "overview":
    from tracker.access import Actor
    from tracker.overview import overview
    def operation():
        with db.session_scope(url) as session:
            started = time.perf_counter()
            out = overview(session, Actor("bench", "admin"))
            seconds = time.perf_counter() - started
        info.update(commits=out["commits"], contributors=out["contributors"])
        return seconds
else:
    from tracker.cli import main
    argv = {"metrics": ["--db", url, "--config", config, "--as", "bench", "metrics", "--as-of", as_of,
                        "--format", "json"],
            "status": ["--db", url, "--as", "bench", "status", "--communities", "--json"]}[what]
    def operation():
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(argv)
        if code != 0:
            raise SystemExit(f"mtx {' '.join(argv[2:])} exited {code}")
        info["stdout"] = buffer.getvalue()
def timed():
    started = time.perf_counter()
    inner = operation()
    return inner if inner is not None else time.perf_counter() - started
setup_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
first = timed()
seconds = timed()
if "stdout" in info:  # parsed after the timing: how many communities the command reported
    info["communities"] = len(json.loads(info.pop("stdout")))
print(json.dumps({"seconds": seconds, "first": first, "setup_mb": setup_mb,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **info}))
"""


def child(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"bench.metrics child {args[1:2]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def measure_operation(url: str, what: str) -> dict:
    runs = [json.loads(child(MEASURE, url, what, str(CONFIG), AS_OF)) for _ in range(RUNS)]
    return {"seconds": statistics.median(r["seconds"] for r in runs), "first": runs[0]["first"],
            "peak_mb": max(r["peak_mb"] for r in runs), "runs": runs}


def measure(database: str, url: str, scale: int) -> dict:
    print(f"building scale {scale} on {database} ...", file=sys.stderr, flush=True)
    commits = build_in_child(url, scale)
    out = {"database": database, "scale": scale, "commits": commits, "operations": {}}
    for what in OPERATIONS:
        print(f"  {what} ...", file=sys.stderr, flush=True)
        out["operations"][what] = measure_operation(url, what)
    return out


def ratio(result: dict, what: str) -> float:
    floor = result["operations"]["floor"]["seconds"]
    return result["operations"][what]["seconds"] / floor if floor > 0 else float("inf")


def growth(results: list[dict]) -> list[dict]:
    """Per database, each operation's time at one scale ÷ at the previous scale run (goal: ≤ the scales' ratio)."""
    out = []
    for database in dict.fromkeys(r["database"] for r in results):
        mine = sorted((r for r in results if r["database"] == database), key=lambda r: r["scale"])
        for low, high in zip(mine, mine[1:]):
            out.append({"database": database, "from": low["scale"], "to": high["scale"],
                        "goal": high["scale"] / low["scale"],
                        "growth": {w: high["operations"][w]["seconds"] / low["operations"][w]["seconds"]
                                   for w in OPERATIONS}})
    return out


HEADER = (f"{'scale':>5} {'database':<10} {'commits':>9} {'operation':<9} {'seconds':>8} {'first s':>8} "
          f"{'peak MB':>7} {'× floor':>7}  goal")


def table_rows(result: dict) -> list[str]:
    lines = []
    for what in OPERATIONS:
        op = result["operations"][what]
        x = ratio(result, what)
        goal = "" if what not in GOALS else f"≤ {GOALS[what]:g}× {'met' if x <= GOALS[what] else 'NOT met'}"
        lines.append(f"{result['scale']:>5} {result['database']:<10} {result['commits']:>9,} {what:<9} "
                     f"{op['seconds']:>8.3f} {op['first']:>8.3f} {op['peak_mb']:>7.0f} {x:>7.2f}  {goal}")
    return lines


def growth_line(g: dict) -> str:
    cells = []
    for what in OPERATIONS:
        x = g["growth"][what]
        verdict = "" if what == "floor" else (" met" if x <= g["goal"] else " NOT met")
        cells.append(f"{what} {x:.1f}×{verdict}")
    return (f"{g['database']}: time from scale {g['from']} to {g['to']} (goal ≤ {g['goal']:g}×): "
            + ", ".join(cells))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10", help="comma-separated sample scales (default 1,10)")
    parser.add_argument("--pg", default=None, help="PostgreSQL admin URL: also measure on a throw-away database")
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON instead of the table")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    if not args.json:
        print(f"Read path on the sample: median of {RUNS} children each; load average {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f} on {os.cpu_count()} CPUs\n{HEADER}", flush=True)
    results = []
    for scale in [int(s) for s in args.scales.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(measure("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", scale))
        if not args.json:
            print("\n".join(table_rows(results[-1])), flush=True)
        if args.pg:
            url, drop = pg_database(args.pg)
            try:
                results.append(measure("postgresql", url, scale))
            finally:
                drop()
            if not args.json:
                print("\n".join(table_rows(results[-1])), flush=True)
    grown = growth(results)
    if args.json:
        print(json.dumps({"load_average": load, "cpus": os.cpu_count(), "runs": RUNS, "goals": GOALS,
                          "results": results, "growth": grown}, indent=2))
        return
    if grown:
        print()
    for g in grown:
        print(growth_line(g))


if __name__ == "__main__":
    main()
