"""Large imports through `mtx certs import`: rows streamed in chunks, memory nearly flat, the outcome row for row exact."""
from __future__ import annotations

import datetime as dt
import gc
import json
import tracemalloc

import pytest
from sqlalchemy import create_engine, text

from tracker import db as dbm
from tracker.cli import main
from tracker.ledger import importer
from tracker.ledger.uscc import fictional_uscc

from tests.ledger.conftest import ROOT
from tests.ledger.files import good_row, write_csv

pytestmark = pytest.mark.postgres
ENTERPRISES = 750  # 3,000 rows: four certificates per enterprise


@pytest.fixture
def mtx(db_url, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db_url, "--config", str(ROOT / "config"), "--as", "office", *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 50 rows, so a few thousand rows cross many chunk boundaries (references across them included)."""
    monkeypatch.setattr(importer, "CHUNK_ROWS", 50, raising=False)


def cert_no(i: int) -> str:
    return f"OH-S-{i:05d}"


def derived_of(e: int, k: int) -> str | None:
    """Some certificates derive from a later row (forward), some from an earlier one."""
    i = 4 * e + k
    if k == 0 and e % 5 == 0:
        return cert_no(i + 3)
    if k == 2 and e % 7 == 0:
        return cert_no(i - 1)
    return None


def pass_date(e: int, k: int) -> dt.date:
    return dt.date(2025, 12 if k == 3 else 1 + k, 1 + e % 28)


def generated_rows() -> list[dict]:
    """Enterprise e: products e-0, e-1, e-2; its fourth certificate re-certifies product e-0, later."""
    rows = []
    for e in range(ENTERPRISES):
        for k in range(4):
            i = 4 * e + k
            rows.append(good_row(i, enterprise=e, 产品名称=f"产品 {e}-{k % 3}", 证书编号=cert_no(i),
                                 通过日期=pass_date(e, k).isoformat(), 继承自=derived_of(e, k) or "",
                                 所在区县="" if e % 3 == 0 else "江北区", 注册地在重庆="是" if e % 2 == 0 else "否"))
    return rows


def table(db_url: str, sql: str) -> list[tuple]:
    engine = create_engine(dbm.normalise_url(db_url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def plain(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def test_thousands_of_rows_are_written_exactly(mtx, db_url, tmp_path, small_chunks):
    path = write_csv(tmp_path / "certs.csv", generated_rows())
    code, out, err = mtx("certs", "import", str(path), "--no-recompute", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["rows"], summary["enterprises_created"], summary["products_created"],
            summary["certificates_created"], summary["recertifications"]) == (3000, 750, 2250, 3000, 750)

    enterprises = table(db_url, "SELECT id, name, uscc, district, registered_in_chongqing FROM enterprises ORDER BY id")
    assert [row[1:] for row in enterprises] == [
        (f"示例{e:04d}科技有限公司（虚构）", fictional_uscc(e), None if e % 3 == 0 else "江北区", e % 2 == 0)
        for e in range(ENTERPRISES)]
    enterprise_id = {uscc: id_ for id_, _, uscc, *_ in enterprises}
    products = table(db_url, "SELECT id, enterprise_id, name, product_type, first_version FROM products ORDER BY id")
    assert [row[1:] for row in products] == [(enterprise_id[fictional_uscc(e)], f"产品 {e}-{p}", "开发板", True)
                                             for e in range(ENTERPRISES) for p in range(3)]
    product_id = {(e, p): products[3 * e + p][0] for e in range(ENTERPRISES) for p in range(3)}
    certificates = table(db_url, "SELECT id, cert_no, product_id, pass_date, os_version, status, derived_from_no, "
                                 "derived_from_id FROM certificates ORDER BY id")
    cert_id = {row[1]: row[0] for row in certificates}
    assert [(no, pid, plain(day), version, status, derived, derived_id)
            for _, no, pid, day, version, status, derived, derived_id in certificates] == [
        (cert_no(4 * e + k), product_id[(e, k % 3)], pass_date(e, k).isoformat(), "5.0.2", "valid", derived_of(e, k),
         cert_id[derived_of(e, k)] if derived_of(e, k) else None)
        for e in range(ENTERPRISES) for k in range(4)]

    # one audit entry per created row, in the order written, each holding the row as stored; then the import's own
    audit = [(action, key, json.loads(after) if isinstance(after, str) else after)
             for action, key, after in table(db_url, "SELECT action, entity_key, after FROM audit_log ORDER BY id")]
    assert [(a, k) for a, k, _ in audit] == (
        [("enterprise.create", fictional_uscc(e)) for e in range(ENTERPRISES)]
        + [("product.create", f"{fictional_uscc(e)}/产品 {e}-{p}/开发板") for e in range(ENTERPRISES) for p in range(3)]
        + [("certificate.create", cert_no(i)) for i in range(4 * ENTERPRISES)] + [("certificates.import", "certs.csv")])
    assert [(a["id"], a["name"], a["uscc"], a["district"], a["registered_in_chongqing"])
            for _, _, a in audit[:750]] == enterprises
    assert [(a["id"], a["enterprise_id"], a["name"], a["product_type"], a["first_version"])
            for _, _, a in audit[750:3000]] == products
    assert [(a["id"], a["cert_no"], a["product_id"], a["pass_date"], a["os_version"], a["status"],
             a["derived_from_no"], a["derived_from_id"]) for _, _, a in audit[3000:6000]] == \
        [(id_, no, pid, plain(day), *rest) for id_, no, pid, day, *rest in certificates]
    assert (audit[-1][2]["sha256"] != "", audit[-1][2]["certificates_created"]) == (True, 3000)

    # the same file again: every certificate unchanged, nothing written
    code, out, err = mtx("certs", "import", str(path), "--no-recompute", "--json")
    assert code == 0, err
    again = json.loads(out)
    assert (again["certificates_unchanged"], again["certificates_created"], again["written"]) == (3000, 0, False)
    assert table(db_url, "SELECT count(*), max(id) FROM audit_log") == [(6001, 6001)]

    # one bad row at the very end (after 60 chunks): nothing at all is written
    rows = generated_rows() + [good_row(9000, enterprise=9000, 证书编号="OH-S-NEW", 继承自="OH-NOWHERE")]
    rows[1]["证书编号"] = "OH-S-FRESH"  # a new certificate early in the file: refused with the rest
    code, out, err = mtx("certs", "import", str(write_csv(tmp_path / "bad.csv", rows)), "--no-recompute")
    assert code == 1
    assert "第 3002 行，列「继承自」，值 'OH-NOWHERE'" in err and "nothing written" in err
    assert table(db_url, "SELECT count(*) FROM certificates") == [(3000,)]
    assert table(db_url, "SELECT count(*), max(id) FROM audit_log") == [(6001, 6001)]


def traced_peak(run, monkeypatch, *args) -> int:
    """The most memory Python held at once from the moment `mtx` opened the file to the end of the command
    (tracemalloc: allocations, not the process size; start-up costs such as loading the configuration left out)."""
    opened = importer.open_sheet

    def open_sheet(*a, **k):
        tracemalloc.reset_peak()
        return opened(*a, **k)

    monkeypatch.setattr(importer, "open_sheet", open_sheet)
    gc.collect()
    tracemalloc.start()
    try:
        code, _, err = run(*args)
        assert code == 0, err
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        monkeypatch.setattr(importer, "open_sheet", opened)


@pytest.mark.parametrize("mode, limit", [("--dry-run", 400), ("--no-recompute", 1500)])
def test_memory_stays_nearly_flat_in_the_number_of_rows(mtx, tmp_path, small_chunks, monkeypatch, mode, limit):
    """Four times the rows may add a few hundred bytes per row (the keys the cross-row checks need), not whole rows:
    before streaming, each row added about 0.8 KB to a dry run and 8 KB to an import (measured ~0.2 and ~0.6 KB
    after)."""
    def file(n: int, tag: int) -> str:  # new enterprises and certificates each time
        rows = [good_row(i, enterprise=10_000 * tag + i // 4, 证书编号=f"OH-M{tag}-{i:05d}",
                         产品名称=f"产品 {i // 4}-{i % 3}") for i in range(n)]
        return str(write_csv(tmp_path / f"m{tag}.csv", rows))

    traced_peak(mtx, monkeypatch, "certs", "import", file(200, 1), mode)  # first use: caches, compiled statements
    # the smaller of two runs each: in a worker that ran many other tests, SQLAlchemy's statement cache is full and a
    # run may pay for recompiling what it evicted; that is a one-time cost, not memory per row
    large = min(traced_peak(mtx, monkeypatch, "certs", "import", file(800, tag), mode) for tag in (2, 4))
    small = min(traced_peak(mtx, monkeypatch, "certs", "import", file(200, tag), mode) for tag in (3, 5))
    assert (large - small) / 600 < limit, f"{(large - small) / 600:.0f} bytes per row"
