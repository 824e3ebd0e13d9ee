"""Benchmark: import 10,000 and 100,000 certificate rows (CSV and XLSX); time, peak memory, and the re-import no-op.

    python -m bench.ledger_import                      # 10,000 and 100,000 rows, CSV and XLSX, SQLite
    python -m bench.ledger_import --rows 50000 --formats csv
    python -m bench.ledger_import --pg postgresql://mtx:mtx@127.0.0.1/postgres   # also on PostgreSQL
    python -m bench.ledger_import --baseline /tmp/old   # also an older checkout's tracker, same files, same run

Each measurement runs in a fresh child process, so the peak RSS is the import's own (its VmHWM: interpreter and
libraries included; the baseline before the import is shown too). Rows are streamed and checked as they are read,
wait on disk between the passes, and are written in chunks: the peak grows only with the keys the cross-row checks
need, not with whole rows (issue 14; the import limits are 50 MB, 200 MB unzipped, 200,000 rows).
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

PEAK = r"""
def peak_mb():
    # this process's own high-water mark: on Linux ru_maxrss starts at the parent's RSS (it survives exec)
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

CHILD = r"""
import json, resource, sys, time
""" + PEAK + r"""
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])  # --baseline: the tracker package of another checkout
from tracker import db
from tracker.access import Actor
from tracker.ledger.importer import import_certificates
url, path = sys.argv[1], sys.argv[2]
db.upgrade(url)
actor = Actor("bench", "admin")
base = peak_mb()
started = time.perf_counter()
with db.session_scope(url) as session:
    report = import_certificates(session, actor, path)
first = time.perf_counter() - started
peak = peak_mb()
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
""" + PEAK + r"""
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])  # --baseline: the tracker package of another checkout
from tracker import db
from tracker.access import Actor
from tracker.ledger.importer import import_certificates
url, path = sys.argv[1], sys.argv[2]
db.upgrade(url)
base = peak_mb()
started = time.perf_counter()
with db.session_scope(url) as session:
    report = import_certificates(session, Actor("bench", "admin"), path, dry_run=True)
assert report.ok and not report.written, report.issues[:3]
print(json.dumps({"seconds": time.perf_counter() - started, "base_mb": base,
                  "peak_mb": peak_mb()}))
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


def write_file(directory: Path, rows: list[list], fmt: str, count: int) -> Path:
    path = directory / f"certs-{count}.{fmt}"
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


def run_one(url: str, path: Path, code: str | None = None) -> dict:
    """The import and re-import in one child; the dry run (reading and checks only) in another, on an empty database.
    `code`: a directory whose tracker package the children import instead of this checkout's."""
    extra = [code] if code else []
    dry_url = url.replace(".db", "-dry.db") if url.startswith("sqlite") else url
    out = subprocess.run([sys.executable, "-c", DRY_CHILD, dry_url, str(path), *extra], check=True,
                         capture_output=True, text=True)
    dry = json.loads(out.stdout.strip().splitlines()[-1])
    out = subprocess.run([sys.executable, "-c", CHILD, url, str(path), *extra], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"dry_seconds": dry["seconds"], "dry_peak_mb": dry["peak_mb"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_import", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000", help="row counts, comma-separated")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--pg", help="PostgreSQL admin URL: also run there, in a throw-away database")
    parser.add_argument("--baseline", metavar="DIR", help="also measure the tracker package in DIR (e.g. "
                        "`git archive COMMIT tracker config | tar -x -C DIR`), on the same files, in the same run")
    args = parser.parse_args(argv)
    from bench.sample import pg_database

    codes = ([("baseline", str(Path(args.baseline).resolve()))] if args.baseline else []) + [("this", None)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for count in (int(n) for n in args.rows.split(",")):
            rows = make_rows(count)
            paths = [write_file(directory, rows, fmt, count) for fmt in args.formats.split(",")]
            del rows  # the children's peaks are their own, but keep this process small all the same
            for path in paths:
                fmt = path.suffix[1:]
                for label, code in codes:
                    targets = [("sqlite", f"sqlite:///{directory / f'bench-{count}-{fmt}-{label}.db'}", None)]
                    if args.pg:
                        url, drop = pg_database(args.pg)
                        targets.append(("postgresql", url, drop))
                    for backend, url, drop in targets:
                        try:
                            results.append((label, backend, fmt, path.stat().st_size, run_one(url, path, code)))
                        finally:
                            if drop:
                                drop()
    print(f"{'code':<9} {'backend':<11} {'format':<6} {'rows':>7} {'file MB':>8} {'dry run s':>10} "
          f"{'dry peak MB':>12} {'import s':>9} {'rows/s':>8} {'re-import s':>12} {'peak RSS MB':>12} "
          f"{'before MB':>10}")
    for label, backend, fmt, size, r in sorted(results, key=lambda x: (x[0] != "baseline", x[1], x[2])):
        print(f"{label:<9} {backend:<11} {fmt:<6} {r['certificates']:>7} {size / 2**20:>8.1f} "
              f"{r['dry_seconds']:>10.2f} {r['dry_peak_mb']:>12.0f} {r['seconds']:>9.2f} "
              f"{r['certificates'] / r['seconds']:>8.0f} {r['again']:>12.2f} {r['peak_mb']:>12.0f} "
              f"{r['base_mb']:>10.0f}")


if __name__ == "__main__":
    main()
