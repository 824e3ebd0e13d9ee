"""Hostile and clumsy files through `mtx certs` / `mtx awards`: formulas stay text, hidden sheets are not read, output
paths are checked before anything is written, import limits, and identifiers matched in one spelling (issue 14)."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from tracker.cli import main
from tracker.ledger.uscc import fictional_uscc

from tests.ledger.conftest import ROOT
from tests.ledger.files import HEADERS, good_row, write_csv, write_xlsx

pytestmark = pytest.mark.postgres
FORMULA = '=HYPERLINK("http://x.example","y")'
E1 = fictional_uscc(1)


@pytest.fixture
def mtx(db_url, capsys):
    def run(*args: str, db: str | None = None) -> tuple[int, str, str]:
        code = main(["--db", db or db_url, "--config", str(ROOT / "config"), "--as", "office", *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def certificates(mtx, **kw) -> list[dict]:
    code, out, err = mtx("certs", "list", "--json", **kw)
    assert code == 0, err
    return json.loads(out)


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/"))


# --- 1. formula injection ---------------------------------------------------------------------------------------------


def hostile_rows() -> list[dict]:
    return [good_row(0, enterprise=1, 产品名称=FORMULA), good_row(1, enterprise=1, 产品名称="+cmd|' /C calc'!A0"),
            good_row(2, enterprise=2, 企业名称="@SUM(1+1)示例有限公司（虚构）", 产品名称="-2+3")]


def test_formula_like_names_are_warned_about_and_written_as_text_in_every_export(mtx, tmp_path):
    code, out, err = mtx("certs", "import", str(write_csv(tmp_path / "c.csv", hostile_rows())), "--json")
    assert code == 0, err
    warned = {(i["row"], i["code"]) for i in json.loads(out)["issues"]}
    assert {(2, "product_name.formula_like"), (3, "product_name.formula_like"), (4, "enterprise_name.formula_like"),
            (4, "product_name.formula_like")} <= warned
    assert mtx("awards", "approve", "--all")[0] == 0

    assert mtx("awards", "export", str(tmp_path / "公示.xlsx"))[0] == 0
    assert mtx("awards", "export", str(tmp_path / "对账单.xlsx"), "--enterprise", E1)[0] == 0
    for name in ("公示.xlsx", "对账单.xlsx"):
        assert "<f>" not in sheet_xml(tmp_path / name), name  # not a single formula in the workbook
    public = load_workbook(tmp_path / "公示.xlsx")["公示名单"]
    cells = {c.value: c.data_type for row in public.iter_rows() for c in row if isinstance(c.value, str)}
    assert cells[FORMULA] == "s" and cells["@SUM(1+1)示例有限公司（虚构）"] == "s" and cells["-2+3"] == "s"
    statement = load_workbook(tmp_path / "对账单.xlsx")["对账单"]
    assert FORMULA in {c.value for row in statement.iter_rows() for c in row}


def test_the_error_report_writes_formula_like_values_as_text_xlsx_and_csv(mtx, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [good_row(0, 统一社会信用代码="=1+1", 产品名称=FORMULA)])
    assert mtx("certs", "import", str(path), "--report", str(tmp_path / "r.xlsx"))[0] == 1
    assert mtx("certs", "import", str(path), "--report", str(tmp_path / "r.csv"))[0] == 1
    assert "<f>" not in sheet_xml(tmp_path / "r.xlsx")
    values = [c.value for row in load_workbook(tmp_path / "r.xlsx").active.iter_rows() for c in row]
    assert "=1+1" in values
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1" in text and ",=1+1" not in text


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_exported_certificate_file_imports_back_unchanged(mtx, tmp_path, suffix):
    rows = hostile_rows() + [good_row(3, enterprise=2, 企业名称="@SUM(1+1)示例有限公司（虚构）", 继承自="OH-TEST-00002",
                                      通过日期="2025-10-03"),
                             good_row(4, enterprise=1, 状态="已撤销", 所在区县="")]
    assert mtx("certs", "import", str(write_csv(tmp_path / "c.csv", rows)))[0] == 0
    stored = certificates(mtx)
    exported = tmp_path / f"导出{suffix}"
    code, out, _ = mtx("certs", "export", str(exported))
    assert code == 0 and "5 张证书" in out
    if suffix == ".csv":
        text = exported.read_text(encoding="utf-8-sig")
        assert "'" + FORMULA.replace('"', '""') in text and "'-2+3" in text  # escaped for spreadsheet programs
    else:
        assert "<f>" not in sheet_xml(exported)

    code, out, _ = mtx("certs", "import", str(exported), "--json")  # the same database: nothing changes
    report = json.loads(out)
    assert code == 0 and (report["certificates_created"], report["certificates_unchanged"]) == (0, 5)
    other = f"sqlite:///{tmp_path / 'other.db'}"  # a fresh database gets exactly the same certificates
    assert mtx("init", db=other)[0] == 0
    assert mtx("certs", "import", str(exported), db=other)[0] == 0
    assert certificates(mtx, db=other) == stored


# --- 4. hidden sheets -------------------------------------------------------------------------------------------------


def two_sheet_workbook(path: Path) -> Path:
    wb = Workbook()
    hidden = wb.active
    hidden.title = "旧数据"
    hidden.append(HEADERS)
    hidden.append([good_row(1)[h] or None for h in HEADERS])
    hidden.sheet_state = "hidden"
    shown = wb.create_sheet("证书")
    shown.append(HEADERS)
    shown.append([good_row(2)[h] or None for h in HEADERS])
    wb.active = 1
    wb.save(path)
    return path


def test_a_hidden_first_sheet_is_not_imported_and_the_sheet_read_is_printed(mtx, tmp_path):
    path = two_sheet_workbook(tmp_path / "two.xlsx")
    code, out, _ = mtx("certs", "import", str(path))
    assert code == 0 and "读取工作表 / sheet read: 证书" in out
    assert [c["cert_no"] for c in certificates(mtx)] == ["OH-TEST-00002"]


def test_sheet_names_the_sheet_to_read(mtx, tmp_path):
    path = two_sheet_workbook(tmp_path / "two.xlsx")
    code, out, _ = mtx("certs", "import", str(path), "--sheet", "旧数据")
    assert code == 0 and "sheet read: 旧数据" in out
    assert [c["cert_no"] for c in certificates(mtx)] == ["OH-TEST-00001"]
    code, _, err = mtx("certs", "import", str(path), "--sheet", "没有")
    assert code == 1 and "no sheet named '没有'" in err and "旧数据, 证书" in err


# --- 5. output paths checked before any write -------------------------------------------------------------------------


@pytest.mark.parametrize("report, says", [("问题.xls", "must end in .xlsx or .csv"),
                                          ("missing/问题.xlsx", "does not exist"),
                                          ("a-folder.xlsx", "is a directory")])
def test_a_bad_report_path_is_refused_before_the_import_writes_anything(mtx, tmp_path, report, says):
    folder = tmp_path / "out"
    (folder / "a-folder.xlsx").mkdir(parents=True)
    path = write_csv(folder / "ok.csv", [good_row(1)])
    code, out, err = mtx("certs", "import", str(path), "--report", str(folder / report))
    assert code == 1 and says in err and "Traceback" not in err + out
    assert certificates(mtx) == []
    assert sorted(p.name for p in folder.iterdir()) == ["a-folder.xlsx", "ok.csv"]


@pytest.mark.parametrize("command", [("awards", "export"), ("certs", "template"), ("certs", "export")])
@pytest.mark.parametrize("target, says", [("/nonexistent/x.xlsx", "does not exist"), ("x.xls", "must end in"),
                                          ("dir.xlsx", "is a directory")])
def test_every_command_writing_a_file_checks_the_path_first(mtx, tmp_path, command, target, says):
    folder = tmp_path / "out"
    (folder / "dir.xlsx").mkdir(parents=True)
    target = target if target.startswith("/") else str(folder / target)
    code, out, err = mtx(*command, target)
    assert code == 1 and says in err and "Traceback" not in err + out
    assert sorted(p.name for p in folder.iterdir()) == ["dir.xlsx"]  # nothing written, no temporary file left


# --- 6. import limits -------------------------------------------------------------------------------------------------


def rules_with_limits(tmp_path: Path, **limits) -> Path:
    data = yaml.safe_load((ROOT / "config" / "awards.yaml").read_text(encoding="utf-8"))
    data["limits"] = {**data.get("limits", {}), **limits}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_limits_are_50_mb_200_mb_and_200000_rows():
    limits = yaml.safe_load((ROOT / "config" / "awards.yaml").read_text(encoding="utf-8"))["limits"]
    assert limits == {"max_file_mb": 50, "max_xlsx_uncompressed_mb": 200, "max_rows": 200000}


def test_more_rows_than_the_limit_are_refused_naming_the_limit(mtx, tmp_path):
    rules = rules_with_limits(tmp_path, max_rows=5)
    ok = write_csv(tmp_path / "five.csv", [good_row(i) for i in range(5)])
    assert mtx("certs", "import", str(ok), "--rules", str(rules), "--dry-run")[0] == 0
    six = write_csv(tmp_path / "six.csv", [good_row(i) for i in range(6)])
    code, _, err = mtx("certs", "import", str(six), "--rules", str(rules))
    assert code == 1 and "limits.max_rows" in err and "5 行 rows" in err
    assert certificates(mtx) == []


def test_a_file_over_the_size_limit_is_refused(mtx, tmp_path):
    rules = rules_with_limits(tmp_path, max_file_mb=1)
    path = write_csv(tmp_path / "big.csv", [good_row(i, 颁发机构="开放原子开源基金会", 企业名称="示" * 150)
                                            for i in range(2500)])
    assert path.stat().st_size > 1024 * 1024
    code, _, err = mtx("certs", "import", str(path), "--rules", str(rules))
    assert code == 1 and "limits.max_file_mb" in err and "1 MB" in err
    assert certificates(mtx) == []


def test_a_zip_bomb_xlsx_is_refused_before_it_is_unpacked(mtx, tmp_path):
    rules = rules_with_limits(tmp_path, max_xlsx_uncompressed_mb=1)
    path = write_xlsx(tmp_path / "bomb.xlsx", [good_row(0, 产品名称="x" * 32000)] * 40)
    assert path.stat().st_size < 100_000  # compresses to almost nothing, expands past 1 MB
    code, _, err = mtx("certs", "import", str(path), "--rules", str(rules))
    assert code == 1 and "limits.max_xlsx_uncompressed_mb" in err
    assert certificates(mtx) == []


# --- 7. identifiers in one spelling; a directory as the import file ---------------------------------------------------


def test_a_full_width_or_lower_case_twin_matches_the_stored_certificate_and_enterprise(mtx, tmp_path):
    assert mtx("certs", "import", str(write_csv(tmp_path / "a.csv", [good_row(1, enterprise=1)])))[0] == 0
    full_width_code = E1.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    twin = good_row(1, enterprise=1, 证书编号="ｏｈ-ＴＥＳＴ-０００\u200b01 ", 统一社会信用代码=full_width_code.lower())
    code, out, err = mtx("certs", "import", str(write_csv(tmp_path / "b.csv", [twin])), "--json")
    report = json.loads(out)
    assert code == 0, err
    assert (report["certificates_created"], report["enterprises_created"], report["certificates_unchanged"]) == (0, 0, 1)
    assert [c["cert_no"] for c in certificates(mtx)] == ["OH-TEST-00001"]
    # the commands match the same way
    assert json.loads(mtx("certs", "balance", full_width_code, "--json")[1])["uscc"] == E1
    code, out, _ = mtx("certs", "revoke", "oh-test-00001\u200b", "--reason", "测试")
    assert code == 0 and "OH-TEST-00001" in out


@pytest.mark.parametrize("name", ["certs.csv", "certs.xlsx", "certs"])
def test_a_directory_as_the_import_file_is_a_clear_error(mtx, tmp_path, name):
    (tmp_path / name).mkdir()
    code, out, err = mtx("certs", "import", str(tmp_path / name))
    assert code == 1 and "is a directory" in err and "Traceback" not in out + err
