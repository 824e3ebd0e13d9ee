"""One set of award labels everywhere: the overview page, `mtx certs balance` / `mtx awards`, and the 公示 XLSX.

The app once said 已测算/已审批 where the command line and the exports said 已核算/已批准/已支付. The labels below are
written out by hand (the policy office's words), and every surface must show exactly these, from tracker.vocab.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import text

from tracker import db as dbm
from tracker.access import Actor
from tracker.cli import main
from tracker.vocab import AWARD_STATUSES
from tests.app.test_overview import run_app

CONFIG = Path(__file__).resolve().parents[2] / "config"
LABELS = {"computed": "已核算", "approved": "已批准", "paid": "已拨付", "to_recover": "待追回", "released": "已释放"}
WRONG = ("已测算", "已审批", "已支付")  # the copies that disagreed


def mtx(capsys, url: str, *args: str) -> str:
    code = main(["--db", url, "--config", str(CONFIG), "--as", "office", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_the_vocabulary_holds_the_policy_labels():
    assert AWARD_STATUSES.labels() == LABELS
    assert AWARD_STATUSES.with_flag("counts_against_ceiling") == ("computed", "approved", "paid")


def test_app_cli_and_export_show_the_same_award_labels(monkeypatch, capsys, sample_db_url, tmp_path):
    url = sample_db_url
    with dbm.get_engine(url).connect() as conn:
        uscc, cert_no = conn.execute(text(  # an enterprise with two awards or more: one to pay, one left approved
            "SELECT e.uscc, MIN(c.cert_no) FROM awards a JOIN enterprises e ON e.id = a.enterprise_id "
            "JOIN certificates c ON c.id = a.certificate_id WHERE a.status = 'computed' AND a.amount > 0 "
            "GROUP BY e.uscc HAVING COUNT(*) >= 2 ORDER BY e.uscc LIMIT 1")).one()
    approved = mtx(capsys, url, "awards", "approve", uscc)
    assert "批准 approved" in approved
    mtx(capsys, url, "awards", "pay", cert_no)

    # the command line: the balance lists each certificate with its award status label
    balance = mtx(capsys, url, "certs", "balance", uscc)
    product_lines = [line for line in balance.splitlines() if line.startswith("  ")]
    shown_in_cli = {label for line in product_lines for label in LABELS.values() if f" {label} " in line}
    assert {LABELS["paid"], LABELS["approved"]} <= shown_in_cli
    assert f"{LABELS['approved']} approved" in balance and f"{LABELS['paid']} paid" in balance

    # the export: the 公示 list's status column and the summary's column headers
    out = tmp_path / "gongshi.xlsx"
    mtx(capsys, url, "awards", "export", str(out))
    workbook = load_workbook(out)
    statuses = {row[8] for row in workbook["公示名单"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert statuses == {LABELS["approved"], LABELS["paid"]}
    headers = next(workbook["企业汇总"].iter_rows(max_row=1, values_only=True))
    assert f"{LABELS['approved']}（元）" in headers and f"{LABELS['paid']}（元）" in headers

    # the app: the overview's award caption and metric
    dbm.dispose_engine(url)
    at = run_app(monkeypatch, url, Actor("admin", "admin"))
    caption = " ".join(c.value for c in at.caption)
    for status in ("computed", "approved", "paid"):
        assert f"{LABELS[status]} " in caption, status
    assert "奖励金额（已核算+已批准+已拨付）" in {m.label for m in at.metric}

    everything = " ".join([approved, balance, caption, *(str(v) for ws in workbook for row in ws.iter_rows(
        values_only=True) for v in row if v is not None), *(m.label for m in at.metric)])
    assert not [w for w in WRONG if w in everything]
