"""Importing the office's spreadsheets: every error with row, column, value and fix; all rows or none."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tracker.access import AccessDenied, Actor
from tracker.ledger.certificates import list_certificates
from tracker.ledger.importer import import_certificates
from tracker.ledger.report import write_report
from tracker.ledger.template import write_template
from tracker.ledger.uscc import fictional_uscc
from tracker.models import AuditEntry, Certificate, Enterprise, Product

from tests.ledger.conftest import ADMIN, EVALUATOR
from tests.ledger.files import HEADERS, good_row, write_csv, write_xlsx

pytestmark = pytest.mark.postgres
TODAY = dt.date(2026, 1, 15)


def counts(session) -> tuple[int, int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(t))
                 for t in (Enterprise, Product, Certificate, AuditEntry))


def run(session, path, **kw):
    report = import_certificates(session, ADMIN, path, today=TODAY, **kw)
    session.commit()
    return report


def sample_rows() -> list[dict]:
    """Two enterprises, a re-certification, a series certificate and a revoked one."""
    rows = [good_row(i, enterprise=1 + i % 2) for i in range(6)]
    rows.append(good_row(6, enterprise=1, 产品名称="示例产品 0000", 系统版本="OpenHarmony-v5.1.0-Release",
                         通过日期="2025-09-01"))  # same product as row 0 -> re-certification
    rows.append(good_row(7, enterprise=2, 继承自="OH-TEST-00001", 通过日期="2025/10/3"))
    rows.append(good_row(8, enterprise=2, 状态="已撤销", 通过日期="2025年11月5日"))
    return rows


def test_a_valid_file_is_imported_and_importing_it_again_changes_nothing(session, tmp_path):
    path = write_csv(tmp_path / "certs.csv", sample_rows())
    report = run(session, path)
    assert report.ok and report.written, [i.render() for i in report.issues]
    assert (report.enterprises_created, report.products_created, report.certificates_created,
            report.recertifications) == (2, 8, 9, 1)
    before = counts(session)
    assert before[:3] == (2, 8, 9)

    again = run(session, path)
    assert again.ok and not again.written
    assert (again.certificates_created, again.certificates_unchanged) == (0, 9)
    assert counts(session) == before  # not even an audit entry


def test_gbk_csv_and_xlsx_with_excel_dates_read_the_same_as_utf8(session, tmp_path):
    rows = sample_rows()
    assert run(session, write_csv(tmp_path / "utf8.csv", rows)).written
    stored = list_certificates(session, ADMIN)
    for path in (write_csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig"),
                 write_csv(tmp_path / "gbk.csv", rows, encoding="gbk"),
                 write_xlsx(tmp_path / "dates.xlsx", rows),
                 write_xlsx(tmp_path / "text-dates.xlsx", rows, excel_dates=False)):
        report = run(session, path)
        # any difference from what the UTF-8 file stored would be a conflict error
        assert report.ok and report.certificates_unchanged == len(rows), (path.name, report.errors[:3])
    assert list_certificates(session, ADMIN) == stored
    assert run(session, write_csv(tmp_path / "gbk2.csv", rows, encoding="gbk")).encoding == "gbk"


def test_values_are_normalised(session, tmp_path):
    run(session, write_csv(tmp_path / "c.csv", sample_rows()))
    by_no = {r["cert_no"]: r for r in list_certificates(session, ADMIN)}
    assert (by_no["OH-TEST-00000"]["os_version"], by_no["OH-TEST-00000"]["api_level"]) == ("5.0.2", 14)
    assert (by_no["OH-TEST-00006"]["os_version"], by_no["OH-TEST-00006"]["api_level"]) == ("5.1.0", 18)
    assert by_no["OH-TEST-00007"]["pass_date"] == dt.date(2025, 10, 3)
    assert by_no["OH-TEST-00008"]["cert_status"] == "revoked"
    assert by_no["OH-TEST-00000"]["issuer"] == "开放原子开源基金会"  # from the certificate type
    derived = session.scalar(select(Certificate).where(Certificate.cert_no == "OH-TEST-00007"))
    assert derived.derived_from_id == session.scalar(select(Certificate.id).where(Certificate.cert_no == "OH-TEST-00001"))


def bad_file_rows() -> tuple[list[dict], dict[int, set[tuple[str, str]]]]:
    """100 rows, each with at least one error, of 40 kinds; and the (column, code) expected on each Excel row."""
    rows: list[dict] = []
    expected: dict[int, set] = {}

    def bad(column: str | None, code: str | None, **changes):
        i = len(rows)
        rows.append(good_row(500 + i, **changes))
        if column:
            expected.setdefault(i + 2, set()).add((column, code))
        return i + 2

    U = "USCC"  # the code column is headed in English in this file: reports must use the header as written
    bad("企业名称", "enterprise_name.missing", 企业名称="")
    bad(U, "uscc.empty", 统一社会信用代码="")
    bad(U, "uscc.wrong_length", 统一社会信用代码="91500000000000019")
    bad(U, "uscc.forbidden_letter", 统一社会信用代码="９１３５０１００ＭＯ００１００Ｙ４３")  # NFKC first
    bad(U, "uscc.forbidden_letter", 统一社会信用代码="91350100MO00100Y43")
    bad(U, "uscc.bad_character", 统一社会信用代码="91350100M-00100Y43")
    bad(U, "uscc.bad_authority", 统一社会信用代码="B1350100M000100Y43")
    bad(U, "uscc.bad_region", 统一社会信用代码="913501A0M000100Y43")
    bad(U, "uscc.wrong_check_character", 统一社会信用代码="91350100M000100Y44")
    bad(U, "uscc.stored_as_number", 统一社会信用代码=915000000000000192)
    bad("产品名称", "product_name.missing", 产品名称="")
    bad("产品类型", "product_type.missing", 产品类型="")
    bad("产品类型", "product_type.bad_product_type", 产品类型="芯片")
    bad("证书编号", "cert_no.missing", 证书编号="")
    bad("证书编号", "cert_no.stored_as_number", 证书编号=1.2345678901234567e19)
    bad("证书编号", "cert_no.control_character", 证书编号="OH-TEST\n-1")
    bad("证书类型", "cert_type.missing", 证书类型="")
    bad("颁发机构", "issuer.missing", 证书类型="某联盟兼容性证明（虚构）")
    bad("系统版本", "os_version.missing", 系统版本="")
    bad("系统版本", "os_version.unreadable", 系统版本="最新版")
    bad("通过日期", "pass_date.missing", 通过日期="")
    bad("通过日期", "pass_date.bad_date", 通过日期="2025-02-30")
    bad("通过日期", "pass_date.future_date", 通过日期="2026-12-01")
    bad("通过日期", "pass_date.date_too_early", 通过日期="2012-05-01")
    bad("通过日期", "pass_date.date_has_time", 通过日期=dt.datetime(2025, 3, 1, 14, 30))
    bad("状态", "status.bad_status", 状态="作废?")
    bad("首版次", "first_version.bad_yes_no", 首版次="也许")
    bad("注册地在重庆", "registered_in_chongqing.bad_yes_no", 注册地在重庆="不确定")
    bad("企业名称", "enterprise_name.too_long", 企业名称="示" * 201)
    bad("所在区县", "district.too_long", 所在区县="渝" * 51)
    # across rows: the first row of each pair carries its own error, so every row is bad
    first = bad("状态", "status.bad_status", 状态="?", 证书编号="OH-DUP-1")
    bad("证书编号", "cert_no.duplicate_in_file", 证书编号="OH-DUP-1")
    bad("系统版本", "os_version.unreadable", 系统版本="x", enterprise=900)
    bad("企业名称", "enterprise_name.differs_in_file", enterprise=900, 企业名称="示例别名有限公司（虚构）")
    bad("系统版本", "os_version.unreadable", 系统版本="x", enterprise=901)
    bad(U, "uscc.differs_in_file", 企业名称="示例0901科技有限公司（虚构）", 统一社会信用代码=fictional_uscc(902))
    bad("系统版本", "os_version.unreadable", 系统版本="x", enterprise=903, 所在区县="渝北区")
    bad("所在区县", "district.differs_in_file", enterprise=903, 所在区县="江北区")
    bad("系统版本", "os_version.unreadable", 系统版本="x", enterprise=904, 产品名称="同一产品")
    bad("首版次", "first_version.differs_in_file", enterprise=904, 产品名称="同一 产品", 首版次="否")
    bad("继承自", "derived_from.self", 证书编号="OH-SELF", 继承自="OH-SELF")
    bad("继承自", "derived_from.unknown", 继承自="OH-NOWHERE")
    bad("继承自", "derived_from.cycle", 证书编号="OH-CYC-A", 继承自="OH-CYC-B")
    bad("继承自", "derived_from.cycle", 证书编号="OH-CYC-B", 继承自="OH-CYC-A")
    # against the database (see the fixture below)
    bad("通过日期", "cert_no.conflicts_with_database", enterprise=950, 证书编号="OH-STORED-1", 产品名称="已登记产品",
        通过日期="2025-04-02")
    bad("首版次", "first_version.conflicts_with_database", enterprise=950, 证书编号="OH-NEW-1", 产品名称="已登记产品三",
        首版次="否")
    bad("状态", "cert_no.conflicts_with_database", enterprise=950, 证书编号="OH-STORED-2", 产品名称="已登记产品二",
        通过日期="2025-04-05", 状态="已撤销")
    del first
    # more of the common slips until there are 100 rows
    fillers = [
        (U, "uscc.wrong_check_character", {"统一社会信用代码": "91500000000000019" + "3"}),
        ("通过日期", "pass_date.bad_date", {"通过日期": "3/1/2025"}),
        ("产品类型", "product_type.bad_product_type", {"产品类型": "主板"}),
        ("系统版本", "os_version.unreadable", {"系统版本": "OpenHarmony 5.0.2 and 5.1.0"}),
        (U, "uscc.forbidden_letter", {"统一社会信用代码": "91500000MA5US00001"}),
        ("状态", "status.bad_status", {"状态": "过期"}),
    ]
    k = 0
    while len(rows) < 100:
        column, code, changes = fillers[k % len(fillers)]
        bad(column, code, **changes)
        k += 1
    return rows, expected


@pytest.fixture
def stored_certificate(session, tmp_path):
    path = write_csv(tmp_path / "stored.csv", [
        good_row(1, enterprise=950, 证书编号="OH-STORED-1", 产品名称="已登记产品", 通过日期="2025-04-01"),
        good_row(2, enterprise=950, 证书编号="OH-STORED-2", 产品名称="已登记产品二", 通过日期="2025-04-05"),
        good_row(3, enterprise=950, 证书编号="OH-STORED-3", 产品名称="已登记产品三", 通过日期="2025-04-07")])
    assert run(session, path).written


def test_a_file_with_100_bad_rows_reports_every_error_and_writes_nothing(session, tmp_path, stored_certificate):
    rows, expected = bad_file_rows()
    headers = ["USCC" if h == "统一社会信用代码" else h for h in HEADERS]
    for row in rows:
        row["USCC"] = row.pop("统一社会信用代码")
    path = write_xlsx(tmp_path / "bad.xlsx", rows, headers=headers)
    before = counts(session)

    report = run(session, path)

    assert not report.ok and not report.written
    assert counts(session) == before
    got: dict[int, set] = {}
    for issue in report.errors:
        got.setdefault(issue.row, set()).add((issue.column, issue.code))
    assert len(rows) == 100 and sorted(got) == list(range(2, 102))  # every row, numbered as Excel does
    assert got == expected
    assert len({code for codes in expected.values() for _, code in codes}) >= 30
    for issue in report.errors:
        assert issue.fix and " / " in issue.message  # Chinese and English, and how to fix it
    wrong = next(i for i in report.errors if i.code == "uscc.wrong_check_character")
    assert wrong.value == "91350100M000100Y44" and "应为 3" in wrong.message


def test_missing_and_duplicate_columns_are_reported_on_row_1(session, tmp_path):
    headers = [h for h in HEADERS if h not in ("证书编号", "系统版本")] + ["uscc", "备注"]
    path = write_csv(tmp_path / "cols.csv", [good_row(1)], headers=headers)
    report = run(session, path)
    errors = {(i.row, i.column, i.code) for i in report.errors}
    assert errors == {(1, "证书编号", "header.missing_column"), (1, "系统版本", "header.missing_column"),
                      (1, "uscc", "header.duplicate_column")}
    assert [(w.column, w.code) for w in report.warnings] == [("备注", "header.unknown_column")]
    assert counts(session) == (0, 0, 0, 0)


def test_english_headers_in_any_order(session, tmp_path):
    mapping = {"企业名称": "enterprise_name", "统一社会信用代码": "uscc", "产品名称": "product_name",
               "产品类型": "product_type", "证书编号": "cert_no", "证书类型": "cert_type", "系统版本": "os_version",
               "通过日期": "pass_date"}
    rows = [{mapping[k]: v for k, v in good_row(i).items() if k in mapping} for i in range(3)]
    path = write_csv(tmp_path / "en.csv", rows, headers=list(reversed(list(mapping.values()))))
    assert run(session, path).certificates_created == 3


def test_a_conflicting_row_stops_the_whole_file(session, tmp_path, stored_certificate):
    rows = [good_row(i) for i in range(5)] + [good_row(1, enterprise=950, 证书编号="OH-STORED-1",
                                                        产品名称="已登记产品", 通过日期="2025-04-01",
                                                        系统版本="5.1.0")]
    before = counts(session)
    report = run(session, write_csv(tmp_path / "c.csv", rows))
    assert [(i.row, i.column, i.code) for i in report.errors] == [(7, "系统版本", "cert_no.conflicts_with_database")]
    assert "5.0.2" in report.errors[0].message  # what is stored
    assert counts(session) == before


def test_a_new_enterprise_name_under_the_same_code_is_updated_and_the_old_name_audited(session, tmp_path):
    run(session, write_csv(tmp_path / "a.csv", [good_row(1, enterprise=7)]))
    renamed = good_row(2, enterprise=7, 企业名称="示例新名称科技有限公司（虚构）")
    report = run(session, write_csv(tmp_path / "b.csv", [good_row(1, enterprise=7, 企业名称=renamed["企业名称"]),
                                                          renamed]))
    assert (report.enterprises_updated, report.certificates_created, report.certificates_unchanged) == (1, 1, 1)
    enterprise = session.scalar(select(Enterprise))
    assert enterprise.name == "示例新名称科技有限公司（虚构）"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "enterprise.update"))
    assert entry.before["name"] == "示例0007科技有限公司（虚构）" and entry.after["name"] == enterprise.name
    assert entry.actor == ADMIN.name


def test_products_are_matched_on_normalised_name_and_type(session, tmp_path):
    rows = [good_row(1, enterprise=3, 产品名称="星辰 A1 开发板"),
            good_row(2, enterprise=3, 产品名称="星辰Ａ１-开发板", 通过日期="2025-08-01", 系统版本="5.1.0"),
            good_row(3, enterprise=3, 产品名称="星辰 A1 开发板", 产品类型="模组")]
    report = run(session, write_csv(tmp_path / "p.csv", rows))
    assert (report.products_created, report.certificates_created, report.recertifications) == (2, 3, 1)


def test_dry_run_checks_and_writes_nothing(session, tmp_path):
    report = run(session, write_csv(tmp_path / "c.csv", sample_rows()), dry_run=True)
    assert report.ok and not report.written and report.certificates_created == 9
    assert counts(session) == (0, 0, 0, 0)


def test_warnings_do_not_stop_an_import(session, tmp_path):
    rows = [good_row(1, 系统版本="4.1", 通过日期="2025-09-01"), good_row(2, 所在区县="朝阳区"),
            good_row(3, 系统版本="5.0.5"), good_row(4, 备注="x")]
    report = run(session, write_csv(tmp_path / "w.csv", rows, headers=HEADERS + ["备注"]))
    assert report.written
    assert {w.code for w in report.warnings} == {"os_version.old_after_cutoff", "district.unknown",
                                                 "os_version.unknown_api_level", "header.unknown_column"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_report_is_written_for_the_sender(session, tmp_path, suffix):
    report = run(session, write_csv(tmp_path / "bad.csv", [good_row(1, 统一社会信用代码="91350100M000100Y44")]))
    out = write_report(report, tmp_path / f"report{suffix}")
    if suffix == ".csv":
        text = out.read_text(encoding="utf-8-sig")
        assert "uscc.wrong_check_character" in text and "91350100M000100Y44" in text and "\n2," in text
    else:
        from openpyxl import load_workbook

        ws = load_workbook(out).active
        assert [c.value for c in ws[2]][:3] == [2, "统一社会信用代码", "91350100M000100Y44"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_template_imports_once_filled_in(session, tmp_path, suffix):
    path = write_template(tmp_path / f"template{suffix}")
    if suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig").splitlines()[0]
        assert text.split(",") == HEADERS
        path = write_csv(path, [good_row(1)], headers=text.split(","))
    else:
        from openpyxl import load_workbook

        wb = load_workbook(path)
        ws = wb["证书"]
        headers = [c.value for c in ws[1]]
        assert headers == HEADERS and wb.sheetnames == ["证书", "填写说明"]
        row = good_row(1)
        for col, header in enumerate(headers, start=1):
            ws.cell(row=2, column=col, value=row[header] or None)
        wb.save(path)
    report = run(session, path)
    assert report.written and report.certificates_created == 1


def test_empty_and_unreadable_files(session, tmp_path):
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    report = run(session, tmp_path / "x.xls")
    assert report.errors[0].code == "file.unreadable" and ".xlsx" in report.errors[0].message
    report = run(session, write_csv(tmp_path / "empty.csv", []))
    assert report.errors[0].code == "file.no_rows"


def test_only_administrators_import(session, tmp_path):
    path = write_csv(tmp_path / "c.csv", [good_row(1)])
    for actor in (EVALUATOR, Actor("ent", "enterprise", 1)):
        with pytest.raises(AccessDenied):
            import_certificates(session, actor, path)


def test_an_enterprise_user_lists_only_its_own_certificates(session, tmp_path):
    run(session, write_csv(tmp_path / "c.csv", sample_rows()))
    own = session.scalar(select(Enterprise).where(Enterprise.uscc == fictional_uscc(1)))
    rows = list_certificates(session, Actor("ent-1", "enterprise", own.id))
    assert rows and {r["uscc"] for r in rows} == {own.uscc}
    assert len(list_certificates(session, EVALUATOR)) == 9
    with pytest.raises(AccessDenied):
        list_certificates(session, Actor("ent-1", "enterprise", own.id), fictional_uscc(2))


def test_a_revocation_made_in_the_ledger_survives_reimporting_the_office_file(session, tmp_path, rules):
    from tracker.ledger.awards import revoke_certificate

    rows = sample_rows()
    rows[1]["状态"] = ""
    path = write_csv(tmp_path / "c.csv", rows)
    run(session, path)
    revoke_certificate(session, ADMIN, "OH-TEST-00001", "复核不通过（测试）")
    session.commit()
    assert run(session, path).ok  # the file's blank status claims nothing
    rows[1]["状态"] = "有效"  # an explicit 有效 contradicts the stored revocation
    report = run(session, write_csv(tmp_path / "c2.csv", rows))
    assert [(i.row, i.column, i.code) for i in report.errors] == [(3, "状态", "cert_no.conflicts_with_database")]
