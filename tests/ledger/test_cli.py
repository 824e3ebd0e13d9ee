"""The `mtx certs` and `mtx awards` commands, end to end on a real database."""
from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from tracker import db as dbm
from tracker.cli import main
from tracker.ledger.uscc import fictional_uscc
from tracker.users import create_user

from tests.ledger.conftest import ADMIN, ROOT
from tests.ledger.files import good_row, write_csv

pytestmark = pytest.mark.postgres
E1, E2 = fictional_uscc(1), fictional_uscc(2)


@pytest.fixture
def mtx(db_url, capsys):
    def run(*args: str, user: str = "office") -> tuple[int, str, str]:
        code = main(["--db", db_url, "--config", str(ROOT / "config"), "--as", user, *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


@pytest.fixture
def imported(mtx, tmp_path):
    rows = [good_row(i, enterprise=1, 通过日期=f"2025-0{i + 1}-15") for i in range(4)] + \
        [good_row(9, enterprise=2, 通过日期="2025-05-20")]
    code, out, err = mtx("certs", "import", str(write_csv(tmp_path / "certs.csv", rows)))
    assert code == 0, err
    assert "新证书 certificates +5" in out and "awards recomputed: 5 new" in out
    return rows


def test_template_then_dry_run(mtx, tmp_path):
    assert mtx("certs", "template", str(tmp_path / "t.xlsx"))[0] == 0
    assert load_workbook(tmp_path / "t.xlsx").sheetnames == ["证书", "填写说明"]
    code, out, _ = mtx("certs", "import", str(write_csv(tmp_path / "c.csv", [good_row(1)])), "--dry-run")
    assert code == 0 and "dry run, nothing written" in out
    code, out, _ = mtx("certs", "list", "--json")
    assert json.loads(out) == []


def test_a_bad_file_exits_1_with_the_report(mtx, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [good_row(1), good_row(2, 统一社会信用代码="91350100M000100Y44")])
    code, out, err = mtx("certs", "import", str(path), "--report", str(tmp_path / "report.xlsx"))
    assert code == 1
    assert "第 3 行，列「统一社会信用代码」，值 '91350100M000100Y44'" in err and "nothing written" in err
    assert load_workbook(tmp_path / "report.xlsx").active.cell(row=2, column=1).value == 3
    assert json.loads(mtx("certs", "list", "--json")[1]) == []


def test_balance_approve_pay_revoke_export(mtx, imported, tmp_path):
    code, out, _ = mtx("certs", "balance", E1, "--json")
    balance = json.loads(out)
    assert code == 0 and (balance["awarded"], balance["remaining"]) == (500000, 0)
    assert [p["amount"] for p in balance["products"]] == [200000, 200000, 100000, 0]

    code, out, _ = mtx("awards", "approve", E1)
    assert code == 0 and "批准 approved 3 项, 合计 50万元" in out
    code, _, err = mtx("awards", "approve", E1)
    assert code == 1 and "没有待批准的奖励" in err  # nothing left: refused, and recorded
    assert mtx("awards", "pay", good_row(0)["证书编号"])[0] == 0
    code, _, err = mtx("awards", "pay", good_row(3)["证书编号"])
    assert code == 1 and "只有已批准的奖励可以支付" in err

    code, out, _ = mtx("certs", "revoke", good_row(1)["证书编号"], "--reason", "测试撤销")
    assert code == 0 and "released" in out
    balance = json.loads(mtx("certs", "balance", E1, "--json")[1])
    assert [p["award_status"] for p in balance["products"]] == ["paid", "released", "approved", "computed"]
    assert [p["amount"] for p in balance["products"]] == [200000, 200000, 100000, 200000]  # headroom re-allocated

    assert mtx("awards", "export", str(tmp_path / "gongshi.xlsx"))[0] == 0
    ws = load_workbook(tmp_path / "gongshi.xlsx")["公示名单"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [(r[2], r[5], r[7], r[8]) for r in rows[:-1]] == [(E1, "OH-TEST-00000", 200000, "已拨付"),
                                                            (E1, "OH-TEST-00002", 100000, "已批准")]
    assert rows[-1][1] == "合计" and rows[-1][7] == 300000

    assert mtx("awards", "export", str(tmp_path / "st.xlsx"), "--enterprise", E1)[0] == 0
    ws = load_workbook(tmp_path / "st.xlsx")["对账单"]
    assert ws["B2"].value == E1 and any(c.value == "released_revoked" for c in ws["F"])


def test_recompute_with_a_variant_rule_set(mtx, imported):
    code, out, _ = mtx("awards", "recompute", "--rules", str(ROOT / "config/awards/examples/whole-only.yaml"),
                       "--json")
    summary = json.loads(out)
    assert code == 0 and summary["rule_set_version"] == "example-whole-only-v1"
    assert summary["by_reason"]["ceiling_whole_only"] == 2  # 20 + 20 = 40; the 3rd and 4th get nothing


def test_an_enterprise_user_sees_only_its_own(mtx, imported, db_url, tmp_path):
    with dbm.session_scope(db_url) as session:
        from sqlalchemy import select

        from tracker.models import Enterprise

        create_user(session, ADMIN, "ent-1", "enterprise", "long-enough-pw", E1)
        create_user(session, ADMIN, "expert", "evaluator", "long-enough-pw")
        assert session.scalar(select(Enterprise).where(Enterprise.uscc == E2))
    assert {r["uscc"] for r in json.loads(mtx("certs", "list", "--json", user="ent-1")[1])} == {E1}
    code, _, err = mtx("certs", "balance", E2, user="ent-1")
    assert code == 1 and "只能查看本企业" in err
    code, _, err = mtx("awards", "approve", E1, user="expert")
    assert code == 1 and "无权" in err
    code, out, _ = mtx("awards", "export", str(tmp_path / "mine.xlsx"), user="ent-1")  # its own statement
    assert code == 0 and E1 in out
    assert len(json.loads(mtx("certs", "list", "--json", user="expert")[1])) == 5


def test_approve_needs_exactly_one_target(mtx, imported):
    assert mtx("awards", "approve")[0] == 2
    assert mtx("awards", "approve", E1, "--all")[0] == 2
    code, out, _ = mtx("awards", "approve", "--all")
    assert code == 0 and "批准 approved 4 项" in out
