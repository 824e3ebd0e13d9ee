"""Benchmark: import 10,000 and 100,000 certificate rows (CSV and XLSX); time, peak memory, and the re-import no-op.

    python -m bench.ledger_import                      # 10,000 and 100,000 rows, CSV and XLSX, SQLite
    python -m bench.ledger_import --rows 50000 --formats csv
    python -m bench.ledger_import --pg postgresql://mtx:mtx@127.0.0.1/postgres   # also on PostgreSQL

Each measurement runs in a fresh child process, so the peak RSS is the import's own (interpreter and libraries
included; the baseline before the import is shown too). Rows are streamed: the peak grows with the parsed rows the
checks need, not with the file's size (issue 14; the import limits are 50 MB, 200 MB unzipped, 200,000 rows).
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HEADERS = ["企业名称", "统一社会信用代码", "所在区县", "产品名称", "产品类型", "证书编号", "证书类型", "系统版本",
           "通过日期", "继承自"]
TYPES = ["开发板", "模组", "设备", "发行版", "软件"]
VERSIONS = ["OpenHarmony 5.0.0 Release", "5.0.1", "OpenHarmony-v5.0.2-Release", "5.0.3", "5.1.0"]

CHILD = r"""
import json, resource, sys, time
from tracker import db
from tracker.access import Actor
from tracker.ledger.importer import import_certificates
url, path = sys.argv[1], sys.argv[2]
db.upgrade(url)
actor = Actor("bench", "admin")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
with db.session_scope(url) as session:
    report = import_certificates(session, actor, path)
first = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
assert report.written and not report.errors, report.issues[:3]
started = time.perf_counter()
with db.session_scope(url) as session:
    again = import_certificates(session, actor, path)
second = time.perf_counter() - started
assert not again.written and again.certificates_unchanged == report.certificates_created
print(json.dumps({"seconds": first, "again": second, "base_mb": base, "peak_mb": peak,
                  "certificates": report.certificates_created, "enterprises": report.enterprises_created,
                  "recertifications": report.recertifications}))
"""


DRY_CHILD = r"""
import json, resource, sys, time
from tracker import db
from tracker.access import Actor
from tracker.ledger.importer import import_certificates
url, path = sys.argv[1], sys.argv[2]
db.upgrade(url)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
with db.session_scope(url) as session:
    report = import_certificates(session, Actor("bench", "admin"), path, dry_run=True)
assert report.ok and not report.written, report.issues[:3]
print(json.dumps({"seconds": time.perf_counter() - started, "base_mb": base,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_rows(n: int) -> list[list]:
    """n valid rows: four certificates per fictional enterprise, one of them a re-certification, one a series one."""
    from tracker.ledger.uscc import fictional_uscc

    rows = []
    for i in range(n):
        e, k = divmod(i, 4)
        product = k if k < 3 else 0  # the 4th certificate re-certifies the first product
        month = 1 + (e + k) % 12
        rows.append([f"示例基准{e:05d}科技有限公司（虚构）", fictional_uscc(100000 + e), "渝北区",
                     f"基准产品 {e:05d}-{product}", TYPES[(e + product) % 5], f"BENCH-{i:06d}",
                     "OpenHarmony生态产品兼容性证书", VERSIONS[(e + k) % 5] if k < 3 else "5.1.0",
                     f"2025-{month:02d}-{1 + (e % 27):02d}" if k < 3 else "2025-12-28",
                     f"BENCH-{i - 1:06d}" if k == 2 and e % 10 == 0 else ""])
    return rows


def write_file(directory: Path, rows: list[list], fmt: str) -> Path:
    path = directory / f"certs.{fmt}"
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADERS)
            writer.writerows(rows)
    else:
        import datetime as dt

        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("证书")
        ws.append(HEADERS)
        for row in rows:
            row = list(row)
            row[8] = dt.datetime.fromisoformat(row[8])  # Excel dates
            ws.append(row)
        wb.save(path)
    return path


def run_one(url: str, path: Path) -> dict:
    """The import and re-import in one child; the dry run (reading and checks only) in another, on an empty database."""
    dry_url = url.replace(".db", "-dry.db") if url.startswith("sqlite") else url
    out = subprocess.run([sys.executable, "-c", DRY_CHILD, dry_url, str(path)], check=True, capture_output=True,
                         text=True)
    dry = json.loads(out.stdout.strip().splitlines()[-1])
    out = subprocess.run([sys.executable, "-c", CHILD, url, str(path)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"dry_seconds": dry["seconds"], "dry_peak_mb": dry["peak_mb"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_import", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000", help="row counts, comma-separated")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--pg", help="PostgreSQL admin URL: also run there, in a throw-away database")
    args = parser.parse_args(argv)
    from bench.sample import pg_database

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for count in (int(n) for n in args.rows.split(",")):
            rows = make_rows(count)
            for fmt in args.formats.split(","):
                path = write_file(directory, rows, fmt)
                targets = [("sqlite", f"sqlite:///{directory / f'bench-{count}-{fmt}.db'}", None)]
                if args.pg:
                    url, drop = pg_database(args.pg)
                    targets.append(("postgresql", url, drop))
                for backend, url, drop in targets:
                    try:
                        results.append((backend, fmt, path.stat().st_size, run_one(url, path)))
                    finally:
                        if drop:
                            drop()
    print(f"{'backend':<11} {'format':<6} {'rows':>7} {'file MB':>8} {'dry run s':>10} {'dry peak MB':>12} "
          f"{'import s':>9} {'rows/s':>8} {'re-import s':>12} {'peak RSS MB':>12} {'before MB':>10}")
    for backend, fmt, size, r in results:
        print(f"{backend:<11} {fmt:<6} {r['certificates']:>7} {size / 2**20:>8.1f} {r['dry_seconds']:>10.2f} "
              f"{r['dry_peak_mb']:>12.0f} {r['seconds']:>9.2f} {r['certificates'] / r['seconds']:>8.0f} "
              f"{r['again']:>12.2f} {r['peak_mb']:>12.0f} {r['base_mb']:>10.0f}")


if __name__ == "__main__":
    main()
