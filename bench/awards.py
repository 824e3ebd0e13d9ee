"""Benchmark: recompute the awards of 10,000 certificates; the first run (every award created) and a second (no-op).

    python -m bench.awards                          # 10,000 certificates on SQLite
    python -m bench.awards --certificates 50000
    python -m bench.awards --pg postgresql://mtx:mtx@127.0.0.1/postgres   # also on PostgreSQL

The certificates are inserted directly (2,500 fictional enterprises, four certificates each: three products past the
ceiling, one re-certification), as the sample generator does, then `recompute_awards` runs in a fresh child process.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import datetime as dt, json, resource, sys, time
from sqlalchemy import insert
from tracker import db
from tracker.access import Actor
from tracker.ledger.awards import approve_awards, enterprise_balance, recompute_awards
from tracker.ledger.rules import load_rule_set
from tracker.ledger.uscc import fictional_uscc
from tracker.models import Certificate, Enterprise, Product

url, n, rules_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db.upgrade(url)
rules = load_rule_set(rules_path)
types = ["开发板", "模组", "设备", "发行版", "软件"]
enterprises = (n + 3) // 4
with db.session_scope(url) as s:
    s.execute(insert(Enterprise), [{"id": e + 1, "name": f"示例基准{e:05d}科技有限公司（虚构）",
                                    "uscc": fictional_uscc(200000 + e), "district": "渝北区",
                                    "registered_in_chongqing": e % 20 != 0} for e in range(enterprises)])
    s.execute(insert(Product), [{"id": e * 3 + p + 1, "enterprise_id": e + 1, "name": f"基准产品{e}-{p}",
                                 "normalised_name": f"基准产品{e}-{p}", "product_type": types[(e + p) % 5],
                                 "first_version": (e + p) % 17 != 0} for e in range(enterprises) for p in range(3)])
    rows = []
    for i in range(n):
        e, k = divmod(i, 4)
        rows.append({"id": i + 1, "product_id": e * 3 + (k if k < 3 else 0) + 1, "cert_no": f"BENCH-A-{i:06d}",
                     "issuer": "开放原子开源基金会", "programme": "OpenHarmony生态产品兼容性证书",
                     "os_version": "5.0.2", "api_level": 14,
                     "pass_date": dt.date(2025, 1 + (e + k) % 12, 1 + e % 28) if k < 3 else dt.date(2025, 12, 30),
                     "status": "revoked" if i % 97 == 0 else "valid"})
    s.execute(insert(Certificate), rows)
admin = Actor("bench", "admin")
times = {}
for label in ("first", "second"):
    started = time.perf_counter()
    with db.session_scope(url) as s:
        summary = recompute_awards(s, admin, rules)
    times[label] = time.perf_counter() - started
    times[label + "_summary"] = summary.as_dict()
started = time.perf_counter()
with db.session_scope(url) as s:
    for e in range(0, enterprises, max(1, enterprises // 100)):
        enterprise_balance(s, admin, fictional_uscc(200000 + e), rules)
times["balance_ms"] = (time.perf_counter() - started) * 1000 / len(range(0, enterprises, max(1, enterprises // 100)))
started = time.perf_counter()
with db.session_scope(url) as s:
    outcomes = approve_awards(s, admin, rules, all_enterprises=True)
times["approve_all"] = time.perf_counter() - started
times["approved"] = sum(1 for o in outcomes if o.approved)
times["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(times))
"""


def run_one(url: str, n: int) -> dict:
    rules = Path(__file__).resolve().parent.parent / "config" / "awards.yaml"
    out = subprocess.run([sys.executable, "-c", CHILD, url, str(n), str(rules)], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.awards", description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=10000)
    parser.add_argument("--pg", help="PostgreSQL admin URL: also run there, in a throw-away database")
    args = parser.parse_args(argv)
    from bench.sample import pg_database

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(("sqlite", run_one(f"sqlite:///{Path(tmp) / 'awards.db'}", args.certificates)))
    if args.pg:
        url, drop = pg_database(args.pg)
        try:
            results.append(("postgresql", run_one(url, args.certificates)))
        finally:
            drop()
    print(f"{'backend':<11} {'certs':>7} {'recompute s':>12} {'again s':>8} {'awarded yuan':>14} "
          f"{'balance ms':>11} {'approve --all s':>16} {'approved':>9} {'peak RSS MB':>12}")
    for backend, r in results:
        s = r["first_summary"]
        print(f"{backend:<11} {s['certificates']:>7} {r['first']:>12.2f} {r['second']:>8.2f} "
              f"{s['awarded_total']:>14,} {r['balance_ms']:>11.1f} {r['approve_all']:>16.2f} {r['approved']:>9} "
              f"{r['peak_mb']:>12.0f}")


if __name__ == "__main__":
    main()
