"""Benchmark: identity resolution on the sample at several scales, against one count-distinct query.

    python -m bench.people                     # scales 1 and 10 on SQLite
    python -m bench.people --scales 1,10,100   # the issue's figures (building scale 100 takes minutes)
    python -m bench.people --pg postgresql://mtx:mtx@127.0.0.1/postgres   # also on PostgreSQL

For each scale the sample is built once; then, each in a fresh child process (peak RSS is the child's, time excludes
imports and opening the connection, as for the yardstick): `SELECT count(DISTINCT author_email) FROM commits` (the
yardstick); a full resolution from no people at all; a no-op resolution (nothing changed since: the stored digest
matches); and an incremental resolution after a collection-sized addition (1 % more commits: existing authors under
new names, existing addresses linked to new accounts, new authors). Each is printed as a multiple of the yardstick's
wall time, CPU time (SQLite) and peak memory; the issue's goal is ≤ 3×.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.sample import build_in_child, pg_database

MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
from sqlalchemy import text
from tracker import db
url, what = sys.argv[1], sys.argv[2]
db.get_engine(url).connect().close()  # connecting is not resolution (nor counting)
info = {}
if what == "count":
    with db.get_engine(url).connect() as conn:
        times = []
        for _ in range(3):  # the best of three: a stricter yardstick on a busy machine
            started, cpu = time.perf_counter(), time.process_time()
            conn.execute(text("SELECT count(DISTINCT author_email) FROM commits")).scalar()
            times.append((time.perf_counter() - started, time.process_time() - cpu))
        seconds, cpu = min(times)
else:
    import yaml
    from tracker.access import SYSTEM
    from tracker.config import IdentitiesFile, OrganisationsFile
    from tracker.people.resolve import resolve_people
    config = Path(sys.argv[3])
    identities = IdentitiesFile.model_validate(yaml.safe_load((config / "identities.yaml").read_text()) or {})
    organisations = OrganisationsFile.model_validate(yaml.safe_load((config / "organisations.yaml").read_text()) or {})
    if what == "full":
        with db.session_scope(url) as s:  # no people at all: every identity and account is resolved anew
            s.execute(text("DELETE FROM people"))
    elif what == "incremental":
        from bench.people import add_collection
        info["added"] = add_collection(url)
    started, cpu = time.perf_counter(), time.process_time()
    with db.session_scope(url) as s:
        report = resolve_people(s, SYSTEM, identities, organisations, full=what == "full")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    info.update({"people": report.people, "identities": report.identities, "created": len(report.created),
                 "changed": len(report.changed), "merged_away": len(report.merged_away)})
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **info}))
"""

KINDS = ("full", "noop", "incremental")


def add_collection(url: str) -> int:
    """What one more collection brings: 1 % more commits, as collection stores them (identities and accounts)."""
    import datetime as dt

    from sqlalchemy import func, select

    import collector.records as rec
    from tracker import db
    from tracker.collect import store
    from tracker.models import Commit, CommitIdentity, Repository

    with db.session_scope(url) as s:
        n = max(20, s.scalar(select(func.count()).select_from(Commit)) // 100)
        repos = list(s.scalars(select(Repository).order_by(Repository.id).limit(20)))
        known = s.execute(select(CommitIdentity.email, CommitIdentity.name).where(CommitIdentity.email.like("%@%"))
                          .order_by(CommitIdentity.id).limit(n)).all()
        when = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        by_repo: dict[int, list] = {}
        for i in range(n):
            kind = i % 3
            if kind == 0:  # an existing author under a new spelling of the name
                email, name, login = known[i % len(known)][0], f"{known[i % len(known)][1]} (laptop)", None
            elif kind == 1:  # an existing address, now linked to a platform account
                email, name, login = known[i % len(known)][0], known[i % len(known)][1], f"bench-linked-{i}"
            else:  # somebody new
                email, name, login = f"new{i}@newcorp{i % 7}.cn", f"新人 {i}", f"bench-new-{i}"
            repo = repos[i % len(repos)]
            t = when + dt.timedelta(minutes=i)
            by_repo.setdefault(repo.id, []).append(rec.Commit(
                sha=f"{i:040x}", author_name=name, author_email=email, author_login=login, author_time=t,
                committer_name=name, committer_email=email, committer_login=login, committer_time=t,
                is_merge=False, is_bot=False, message_title="bench"))
        for repo in repos:
            store.store_commits(s, repo, by_repo.get(repo.id, []))
    return n


CONFIG = Path(__file__).resolve().parents[1] / "config"


def child(code: str, *args: str) -> dict | str:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
                         cwd=CONFIG.parent)
    last = out.stdout.strip().splitlines()[-1]
    return json.loads(last) if last.startswith("{") else last


def measure(url: str, scale: int) -> dict:
    commits = build_in_child(url, scale)
    out = {"commits": commits, "count": child(MEASURE, url, "count")}
    for kind in KINDS:
        out[kind] = child(MEASURE, url, kind, str(CONFIG))
    return out


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
        report(rows[-2:] if args.pg else rows[-1:], header=len(rows) <= (2 if args.pg else 1))
    print()
    report(rows, header=True)


def report(rows, header: bool) -> None:
    """Wall time (×: a multiple of the yardstick's), CPU time of this process as a multiple of the yardstick's (SQLite
    only: PostgreSQL works in its own server process; on a shared machine CPU is the steadier figure), peak memory."""
    if header:
        print(f"{'backend':<11} {'scale':>5} {'commits':>9} {'identities':>10} {'people':>7} {'count s':>8} {'MB':>5} "
              + " ".join(f"{k + ' s':>13} {'×':>5} {'cpu×':>5} {'MB×':>5}" for k in KINDS))
    for backend, scale, r in rows:
        c = r["count"]

        def cpu(k: str) -> str:
            return f"{r[k]['cpu'] / c['cpu']:>5.1f}" if backend == "sqlite" and c["cpu"] > 0 else f"{'-':>5}"

        cells = " ".join(f"{r[k]['seconds']:>13.3f} {r[k]['seconds'] / c['seconds']:>5.1f} {cpu(k)} "
                         f"{r[k]['peak_mb'] / c['peak_mb']:>5.1f}" for k in KINDS)
        print(f"{backend:<11} {scale:>5} {r['commits']:>9,} {r['incremental']['identities']:>10,} "
              f"{r['incremental']['people']:>7,} {c['seconds']:>8.3f} {c['peak_mb']:>5.0f} {cells}", flush=True)


if __name__ == "__main__":
    main()
