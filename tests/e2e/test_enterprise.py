"""我的奖励 in a real browser (issue 21): the demo enterprise user signs in, sees exactly its own certificates as the
database holds them and its balance worked out here by hand, and downloads its statement (the deferred download
built on the server when the button is clicked), which holds its rows and nothing of any other enterprise."""
from __future__ import annotations

import pytest

from tests.app.test_awards_page import xlsx_sheets
from tests.app.test_people_page import sql
from tests.e2e import browser as web
from tracker.cli.sample import DEMO_ACCOUNTS

pytestmark = pytest.mark.e2e
PASSWORDS = {username: password for username, _, password in DEMO_ACCOUNTS}
CERT_STATUS = {"valid": "有效", "revoked": "已撤销"}  # by hand, not from tracker.vocab
AWARD_STATUS = {"computed": "已核算", "approved": "已批准", "paid": "已拨付", "to_recover": "待追回", "released": "已释放"}


def wan(amount: int) -> str:
    """An amount as the app writes whole 万元 (the only amounts here), by hand."""
    assert amount % 10_000 == 0
    return f"{amount // 10_000}万元" if amount else "0 元"


sheets = xlsx_sheets  # every sheet's rows as text, as the AppTest of 我的奖励 reads its download


def test_an_enterprise_sees_its_own_certificates_and_balance_and_downloads_only_its_statement(
        browser, app_server, tmp_path):
    url = app_server.db_url
    (eid,), = sql(url, "SELECT enterprise_id FROM users WHERE username = 'enterprise'")
    (name, uscc), = sql(url, "SELECT name, uscc FROM enterprises WHERE id = :e", e=eid)
    own = sql(url, """SELECT c.cert_no, p.name, p.product_type, c.pass_date, c.status, a.amount, a.status
                      FROM certificates c JOIN products p ON p.id = c.product_id
                      LEFT JOIN awards a ON a.certificate_id = c.id
                      WHERE p.enterprise_id = :e ORDER BY c.pass_date, c.cert_no""", e=eid)
    others = sql(url, "SELECT name, uscc FROM enterprises WHERE id <> :e", e=eid)
    other_certs = [n for (n,) in sql(url, "SELECT c.cert_no FROM certificates c JOIN products p ON p.id = c.product_id "
                                          "WHERE p.enterprise_id <> :e", e=eid)]
    assert own and others and other_certs

    # By hand (config/awards.yaml: 20万元 per first-time product, 50万元 per enterprise, the last one partial): the
    # demo enterprise has three first-time, first-version products certified in the policy period, so they earn
    # 20万元, 20万元 and what is left, 50 − 20 − 20 = 10万元; all computed, all counting.
    assert [(r[4], r[5], r[6]) for r in own] == [("valid", 200_000, "computed"), ("valid", 200_000, "computed"),
                                                 ("valid", 100_000, "computed")]
    counts = 200_000 + 200_000 + 100_000
    remaining = 500_000 - counts  # 上限 50万元 minus what counts: 0 元
    next_product = min(200_000, remaining)
    assert (counts, remaining, next_product) == (500_000, 0, 0)

    web.sign_in(browser, app_server.base, "enterprise", PASSWORDS["enterprise"])
    web.click_menu(browser, "我的奖励")
    expected = [{"证书编号": no, "产品": product, "产品类型": kind, "通过日期": str(passed), "证书状态": CERT_STATUS[status],
                 "奖励金额": wan(amount), "奖励状态": AWARD_STATUS[award], "首次认证": "是", "计入上限": "是"}
                for no, product, kind, passed, status, amount, award in own]
    rows = web.table_rows(browser, "证书编号")
    assert [{k: row[k] for k in expected[0]} for row in rows] == expected  # exactly its certificates, in order
    web.wait_for_text(browser, f"上限 50万元，已计入 {wan(counts)}，剩余 {wan(remaining)}；"
                               f"再有一个首次认证产品可得 {wan(next_product)}")
    shown = web.metrics(browser)
    assert (shown["企业上限"], shown["剩余额度"], shown["再有一个首次认证产品可得"]) == (
        "50万元", wan(remaining), wan(next_product))
    assert shown["已计入上限（已核算+已批准+已拨付）"] == wan(counts)
    page = web.page_text(browser)
    assert name in page and uscc in page
    assert not [x for n, u in others for x in (n, u) if x in page]
    web.screenshot(browser, "enterprise-my-awards")

    folder = web.allow_downloads(browser, tmp_path / "downloads")
    path = web.download(browser, "下载对账单（XLSX）", folder)
    assert path.name == f"对账单-{uscc}.xlsx"
    book = sheets(path.read_bytes())
    statement = book["对账单"]
    assert statement[:2] == [["企业名称", name], ["统一社会信用代码", uscc]]
    header = next(i for i, row in enumerate(statement) if row[:3] == ["产品名称", "证书编号", "奖励金额（元）"])
    listed = [row for row in statement[header + 1:] if any(row)]
    assert [(row[1], row[0], int(float(row[2]))) for row in listed] == [(r[0], r[1], r[5]) for r in own]
    everything = "\n".join("\t".join(row) for rows in book.values() for row in rows)
    assert not [x for n, u in others for x in (n, u) if x in everything]  # no other enterprise's name or code
    cells = {cell for rows in book.values() for row in rows for cell in row}
    assert not cells & set(other_certs) and not [c for c in other_certs if c in everything]
