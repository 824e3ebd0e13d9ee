"""Benchmark: the tracker calls of the 社区详情 page (views/community.py) on a sample, one community at a time.

    python -m bench.community                          # builds scale 10 into a temporary SQLite file
    python -m bench.community --scale 100              # the issue's scale (the build takes many minutes)
    python -m bench.community --db sqlite:////tmp/s10.db   # an existing sample database (nothing is written to it
                                                            # but the aggregates the first read may build)

For the community with the most repositories and the one with the most commits, each call the page makes is run
once untimed (the warm-up: imports, statement cache, any aggregate build) and then three times; the table gives the
median and the largest of the three, and the page's total (the medians summed). ``explain`` scores every community
(the live ranking), so it is the one that grows with the number of communities; the page caches it for 60 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from bench.sample import build_in_child

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 10, 31)
RUNS = 3


def calls(slug: str):
    from tracker.access import Actor
    from tracker.metrics import detail

    actor = Actor("bench", "evaluator")
    return {
        "community_choices": lambda s: detail.community_choices(s, actor),
        "explain": lambda s: detail.explain(s, actor, slug, "mantianxing", ROOT / "config", as_of=AS_OF),
        "monthly_activity": lambda s: detail.monthly_activity(s, actor, slug, AS_OF),
        "repositories": lambda s: detail.repositories(s, actor, slug, AS_OF, per_page=20),
        "organisations": lambda s: detail.organisations(s, actor, slug, AS_OF, 365),
        "top_contributors": lambda s: detail.top_contributors(s, actor, slug, AS_OF, 365, per_page=20),
        "top_contributors_last_page": lambda s: detail.top_contributors(
            s, actor, slug, AS_OF, 365, page=detail.top_contributors(s, actor, slug, AS_OF, 365, per_page=20).pages,
            per_page=20),
    }


def subjects(url: str) -> list[str]:
    from sqlalchemy import text

    from tracker import db

    with db.get_engine(url).connect() as conn:
        most_repos = conn.execute(text(
            "SELECT c.slug FROM communities c JOIN community_repositories l ON l.community_id = c.id "
            "GROUP BY c.slug ORDER BY COUNT(*) DESC, c.slug LIMIT 1")).scalar()
        most_commits = conn.execute(text(
            "SELECT c.slug FROM communities c JOIN activity_days d ON d.community_id = c.id "
            "GROUP BY c.slug ORDER BY SUM(d.commits) DESC, c.slug LIMIT 1")).scalar()
    return list(dict.fromkeys(s for s in (most_repos, most_commits) if s))


def measure(url: str) -> list[tuple[str, str, float, float, float]]:
    from tracker import db

    with db.session_scope(url) as s:  # the first read builds any missing aggregates: not the page's time
        from tracker.metrics import activity
        activity.ensure_current(s)
    rows = []
    for slug in subjects(url):
        for name, call in calls(slug).items():
            with db.session_scope(url) as s:
                started = time.perf_counter()
                call(s)
                first = time.perf_counter() - started
                times = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    call(s)
                    times.append(time.perf_counter() - started)
            rows.append((slug, name, first, statistics.median(times), max(times)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--db", help="an existing sample database instead of building one")
    args = parser.parse_args(argv)
    import os

    with tempfile.TemporaryDirectory() as directory:
        url = args.db or f"sqlite:///{Path(directory) / 'sample.db'}"
        if not args.db:
            print(f"building the sample at scale {args.scale} …", flush=True)
            build_in_child(url, args.scale)
        rows = measure(url)
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'community':<28} {'call':<28} {'first s':>8} {'median s':>9} {'max s':>7}")
    for slug, name, first, median, worst in rows:
        print(f"{slug:<28} {name:<28} {first:>8.3f} {median:>9.3f} {worst:>7.3f}")
    for slug in dict.fromkeys(r[0] for r in rows):
        page = sum(r[3] for r in rows if r[0] == slug and r[1] != "top_contributors_last_page")
        without = page - next(r[3] for r in rows if r[0] == slug and r[1] == "explain")
        print(f"{slug}: the page's calls {page:.3f} s (median sum); without explain (kept per data version by the app) {without:.3f} s")


if __name__ == "__main__":
    main()
