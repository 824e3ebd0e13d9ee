"""认证台账 in a real browser (issue 21): an administrator uploads a file with three bad rows (the three problems shown
by the dry run, nothing written), then a good one, imports it after the confirmation and approves the new award, and
the enterprise's own 我的奖励 moves as worked out by hand; and two administrators, each in a browser of their own,
approving two awards of the same enterprise at the same moment never take it past its ceiling, on SQLite and on
PostgreSQL.

Each server here runs on a private copy of the demo data (the shared app_server is left alone), and each test makes
or changes only an enterprise no other test looks at."""
from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from tests.e2e import browser as web
from tests.e2e.conftest import RunningApp
from tests.ledger.files import good_row, write_xlsx
from tracker import db as dbm
from tracker.cli import main
from tracker.cli.sample import DEMO_ACCOUNTS
from tracker.ledger.uscc import fictional_uscc

pytestmark = pytest.mark.e2e
PASSWORDS = {username: password for username, _, password in DEMO_ACCOUNTS}
CEILING = 500_000  # config/awards.yaml: 50万元 per enterprise over the policy period, 20万元 per first-time product
TABLES = ("enterprises", "products", "certificates", "awards", "audit_log")
FILTER = "企业（名称或统一社会信用代码的一部分）"


def sql(url: str, statement: str, **params):
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    return {t: sql(url, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


def mtx(url: str, *args: str) -> int:
    return main(["--db", url, "--config", str(web.CONFIG), "--as", "admin", *args])


def wan(amount: int) -> str:
    assert amount % 10_000 == 0
    return f"{amount // 10_000}万元" if amount else "0 元"


def serve(url: str, folder: Path):
    server = web.AppServer(url, folder / "streamlit.log")
    try:
        yield RunningApp(server.base, url, server)
    finally:
        server.stop()
        dbm.dispose_engine(url)


@pytest.fixture(scope="module")
def ledger_app(chromium_available, demo_db, tmp_path_factory):
    """The app on a private copy of the demo database (SQLite), for this module's tests only."""
    folder = tmp_path_factory.mktemp("ledger")
    shutil.copyfile(demo_db, folder / "ledger.db")
    yield from serve(f"sqlite:///{folder / 'ledger.db'}", folder)


@pytest.fixture(scope="module")
def pg_ledger_app(chromium_available, pg_databases, tmp_path_factory):
    """The app on a fresh PostgreSQL database (from MTX_TEST_DATABASE_URL) holding the demo data, built as the demo_db
    fixture builds it: the scale-1 sample, the demo accounts, the demo round. Without PostgreSQL this is skipped,
    except on CI (CI=true), where it fails."""
    if pg_databases is None:
        reason = "MTX_TEST_DATABASE_URL is not set: no PostgreSQL for the browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (scripts/ensure-postgres.sh prints one)", pytrace=False)
        pytest.skip(reason)
    from tracker.cli.sample import ensure_demo_accounts
    from tracker.sample import build_sample
    from tracker.sample.demo_round import ensure_demo_round

    url = pg_databases.create(migrated=True)
    try:
        build_sample(url, scale=1)
        ensure_demo_accounts(url)
        ensure_demo_round(url, web.CONFIG)
        dbm.dispose_engine(url)
        yield from serve(url, tmp_path_factory.mktemp("pg-ledger"))
    finally:
        pg_databases.drop(url)


@pytest.fixture(scope="module")
def second_driver(chromium_available, tmp_path_factory):
    """A second Chromium for the module (a second administrator), reused by its tests."""
    driver = web.new_driver(str(tmp_path_factory.mktemp("chromium-second")))
    yield driver
    driver.quit()


@pytest.fixture
def other_browser(second_driver):
    web.forget_session(second_driver)
    return second_driver


# --- helpers --------------------------------------------------------------------------------------------------------

def header_name(cell: str) -> str:
    return cell.replace("*", "").replace("（必填）", "").replace("(必填)", "").strip()


def fill_template(template: Path, rows: list[dict], path: Path) -> Path:
    """The template the page offers, filled in as a user would: one row per dict, under the template's own headers."""
    book = load_workbook(template)
    sheet = book["证书"]
    headers = [header_name(c.value or "") for c in sheet[1]]
    assert set(headers) >= {"企业名称", "统一社会信用代码", "产品名称", "证书编号", "通过日期"}, headers
    for n, row in enumerate(rows, start=2):
        for column, header in enumerate(headers, start=1):
            sheet.cell(row=n, column=column, value=row.get(header) or None)
    book.save(path)
    return path


def my_awards(browser, base: str, username: str, password: str, until_text: str):
    """Sign in as the enterprise user, open 我的奖励; waits for `until_text` (the balance sentence)."""
    web.sign_in(browser, base, username, password)
    web.click_menu(browser, "我的奖励")
    web.wait_for_text(browser, until_text)
    return web.metrics(browser)


def open_certificate(browser, base: str, uscc: str, cert_no: str) -> None:
    """As the administrator: 认证台账, the list filtered to one enterprise, one certificate's detail opened."""
    web.sign_in(browser, base, "admin", PASSWORDS["admin"])
    web.click_menu(browser, "认证台账")
    web.type_into(browser, FILTER, uscc, enter=True)
    web.table_rows(browser, "证书编号", until=lambda rows: rows and all(r["统一社会信用代码"] == uscc for r in rows))
    web.choose(browser, "查看证书详情", cert_no)
    web.wait_for_text(browser, f"证书 {cert_no}")
    web.button(browser, "批准该企业全部待批准的奖励")


# --- an import, then an approval, seen by the enterprise ------------------------------------------------------------

def test_three_bad_rows_are_shown_and_refused_then_a_good_file_is_imported_approved_and_seen_by_the_enterprise(
        browser, ledger_app, tmp_path, monkeypatch, capsys):
    url, base = ledger_app.db_url, ledger_app.base
    # the sample's second enterprise: a product certified twice (the second a re-certification) and a second product
    (eid, name, uscc, district), = sql(url, "SELECT id, name, uscc, district FROM enterprises ORDER BY id "
                                            "LIMIT 1 OFFSET 1")
    awards = sql(url, """SELECT c.cert_no, a.amount, a.status, a.reason_code FROM certificates c
                         JOIN products p ON p.id = c.product_id JOIN awards a ON a.certificate_id = c.id
                         WHERE p.enterprise_id = :e ORDER BY c.pass_date, c.cert_no""", e=eid)
    assert [(a, s, r) for _, a, s, r in awards] == [(200_000, "computed", "awarded"),
                                                    (0, "computed", "recertification"),
                                                    (200_000, "computed", "awarded")]
    last_passed = sql(url, "SELECT max(c.pass_date) FROM certificates c JOIN products p ON p.id = c.product_id "
                           "WHERE p.enterprise_id = :e", e=eid)[0][0]
    assert str(last_passed) < "2026-07-15"  # the new certificate comes after every one it has: it is allocated last
    counted = 200_000 + 0 + 200_000          # by hand: two first-time products; the re-certification earns nothing
    remaining = CEILING - counted            # 50万元 − 40万元 = 10万元
    new_award = min(200_000, remaining)      # a third first-time product gets what is left: 10万元 (partial)
    assert (remaining, new_award) == (100_000, 100_000)

    username, password = f"ent-{uuid.uuid4().hex[:6]}", "Shancheng-e2e-2026"
    monkeypatch.setenv("MTX_E2E_PASSWORD", password)
    assert mtx(url, "users", "add", username, "--role", "enterprise", "--enterprise", uscc,
               "--password-env", "MTX_E2E_PASSWORD") == 0
    capsys.readouterr()
    shown = my_awards(browser, base, username, password,
                      f"上限 50万元，已计入 {wan(counted)}，剩余 {wan(remaining)}；再有一个首次认证产品可得 {wan(new_award)}")
    assert shown["剩余额度"] == wan(remaining) == "10万元"

    # the administrator takes the template from the page and fills it in
    web.sign_in(browser, base, "admin", PASSWORDS["admin"])
    web.click_menu(browser, "认证台账")
    folder = web.allow_downloads(browser, tmp_path / "downloads")
    template = web.download(browser, "下载模板（XLSX）", folder)
    stranger = 9_030 + uuid.uuid4().int % 1_000_000  # a new enterprise of its own, so the file is new on every run
    good = fictional_uscc(stranger)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")  # one check character changed
    token = uuid.uuid4().hex[:6].upper()
    rows = [good_row(n, enterprise=stranger, 证书编号=f"E2E-BAD-{token}-{n}") for n in range(1, 6)]
    rows[1]["统一社会信用代码"] = wrong          # Excel row 3
    rows[3]["通过日期"] = "2025-13-45"           # Excel row 5
    rows[4]["产品类型"] = "手表"                 # Excel row 6
    bad = fill_template(template, rows, tmp_path / "三行有误.xlsx")

    before = counts(url)
    web.upload(browser, bad, until=lambda b: any("发现 3 个错误" in a for a in web.alerts(b)))
    issues = web.table_rows(browser, "改正", until=lambda r: len(r) == 3)
    assert [(r["行"], r["级别"], r["代码"]) for r in issues] == [
        ("3", "错误", "uscc.wrong_check_character"), ("5", "错误", "pass_date.bad_date"),
        ("6", "错误", "product_type.bad_product_type")]
    assert all(r["改正"] for r in issues)
    assert any("未写入任何数据" in a for a in web.alerts(browser))
    labels = [b.text.strip() for b in browser.find_elements("css selector", "[data-testid='stMain'] button")]
    assert "确认导入" not in labels
    web.screenshot(browser, "admin-ledger-three-bad-rows")
    assert counts(url) == before  # nothing written: no enterprise, product, certificate, award or audit entry

    cert_no = f"E2E-OH-{token}"
    product = f"山城智慧屏 E2E-{token}"
    row = good_row(1, 统一社会信用代码=uscc, 企业名称=name, 所在区县=district or "", 产品名称=product, 证书编号=cert_no,
                   通过日期="2026-07-15")
    good_file = fill_template(template, [row], tmp_path / "证书.xlsx")
    web.upload(browser, good_file, until=lambda b: any(a.startswith("检查通过") for a in web.alerts(b)))
    assert any(a.startswith("检查通过，尚未写入：1 行；新企业 0 家（更新 0 家），新产品 1 个，新证书 1 张") for a in
               web.alerts(browser)), web.alerts(browser)
    assert counts(url) == before
    question = web.open_dialog(browser, "确认导入")
    assert "新证书 1 张" in question and counts(url) == before  # asked, not yet done
    done = web.answer_dialog(browser, lambda alerts: any(a.startswith("已导入") for a in alerts))
    assert any(a.startswith("已导入：1 行") for a in done), done
    after = counts(url)
    assert (after["certificates"], after["products"], after["enterprises"]) == (
        before["certificates"] + 1, before["products"] + 1, before["enterprises"])
    assert sql(url, "SELECT a.amount, a.status, a.reason_code FROM awards a JOIN certificates c ON "
                    "c.id = a.certificate_id WHERE c.cert_no = :n", n=cert_no) == [(new_award, "computed",
                                                                                    "partial_ceiling")]

    web.type_into(browser, FILTER, uscc, enter=True)
    listed = web.table_rows(browser, "证书编号", until=lambda r: cert_no in [x["证书编号"] for x in r])
    assert [(r["证书编号"], r["奖励金额"], r["奖励状态"]) for r in listed][-1] == (cert_no, wan(new_award), "已核算")
    web.choose(browser, "查看证书详情", cert_no)
    web.wait_for_text(browser, f"证书 {cert_no}")
    question = web.open_dialog(browser, "批准本证书的奖励")
    assert f"批准证书 {cert_no} 的奖励 {wan(new_award)}" in question
    done = web.answer_dialog(browser, lambda alerts: any("批准" in a for a in alerts))
    assert f"已批准 1 项，合计 {wan(new_award)}" in done, done
    web.screenshot(browser, "admin-ledger-approved")
    assert sql(url, "SELECT a.amount, a.status, a.decided_by FROM awards a JOIN certificates c ON "
                    "c.id = a.certificate_id WHERE c.cert_no = :n", n=cert_no) == [(new_award, "approved", "admin")]

    # the enterprise's own page: 20 + 0 + 20 + 10 = 50万元 counted, of which 10万元 approved; nothing left
    counted_now = counted + new_award
    shown = my_awards(browser, base, username, password,
                      f"上限 50万元，已计入 {wan(counted_now)}，剩余 {wan(CEILING - counted_now)}；"
                      f"再有一个首次认证产品可得 0 元")
    assert (shown["已计入上限（已核算+已批准+已拨付）"], shown["剩余额度"]) == ("50万元", "0 元")
    web.wait_for_text(browser, f"其中已核算 {wan(counted)} · 已批准 {wan(new_award)} · 已拨付 0 元")
    rows = web.table_rows(browser, "证书编号", until=lambda r: len(r) == len(awards) + 1)
    assert [r["证书编号"] for r in rows] == [a[0] for a in awards] + [cert_no]
    assert (rows[-1]["产品"], rows[-1]["奖励金额"], rows[-1]["奖励状态"], rows[-1]["计入上限"]) == (
        product, wan(new_award), "已批准", "是")
    web.screenshot(browser, "enterprise-my-awards-after-approval")


# --- two administrators at the same moment --------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def race_app(request) -> RunningApp:
    return request.getfixturevalue("ledger_app" if request.param == "sqlite" else "pg_ledger_app")


def test_two_administrators_approving_two_awards_of_one_enterprise_at_once_never_exceed_its_ceiling(
        browser, other_browser, race_app, tmp_path, capsys):
    url, base = race_app.db_url, race_app.base
    number = 9_500 + uuid.uuid4().int % 1_000_000
    uscc, token = fictional_uscc(number), uuid.uuid4().hex[:6].upper()
    certs = [f"RACE-{token}-{i}" for i in (1, 2, 3)]
    path = write_xlsx(tmp_path / "race.xlsx", [good_row(i, enterprise=number, 证书编号=certs[i - 1],
                                                        产品名称=f"并发产品 {token} {i}", 通过日期=f"2025-0{i}-10")
                                               for i in (1, 2, 3)])
    assert mtx(url, "certs", "import", str(path)) == 0              # computed: 20 + 20 + 10万元
    assert mtx(url, "awards", "approve", "--cert", certs[0]) == 0  # approved: 20万元, 30万元 of headroom left
    capsys.readouterr()
    # the third award as computed before the ceiling was known (a stale run): the two pending awards, 20 + 20万元,
    # would together take the enterprise to 60万元, past its 50万元 ceiling, if both were approved as they stand
    sql(url, "UPDATE awards SET amount = 200000, reason = '（陈旧的核算结果）' WHERE certificate_id = "
             "(SELECT id FROM certificates WHERE cert_no = :n)", n=certs[2])
    pending = sql(url, "SELECT c.cert_no, a.amount, a.status FROM awards a JOIN certificates c ON c.id = "
                       "a.certificate_id WHERE c.cert_no IN (:a, :b, :c) ORDER BY c.cert_no",
                  a=certs[0], b=certs[1], c=certs[2])
    assert pending == [(certs[0], 200_000, "approved"), (certs[1], 200_000, "computed"),
                       (certs[2], 200_000, "computed")]
    assert 200_000 + 200_000 + 200_000 > CEILING

    # one administrator approves the second certificate, the other the third, each as the page shows it (20万元)
    drivers, targets = [browser, other_browser], certs[1:]
    for driver, cert_no in zip(drivers, targets):
        open_certificate(driver, base, uscc, cert_no)
        assert f"批准证书 {cert_no} 的奖励 20万元" in web.open_dialog(driver, "批准本证书的奖励")

    barrier = threading.Barrier(len(drivers))
    clicked, shown, failures = {}, {}, []

    def administrator(n: int, driver) -> None:
        try:
            ok = web.button(driver, "确认", within=web.DIALOG)
            barrier.wait(timeout=30)
            clicked[n] = time.perf_counter()
            web.run_and_wait(driver, ok.click, until=lambda b: any("批准" in a for a in web.alerts(b)))
            shown[n] = web.alerts(driver)
        except BaseException as exc:  # reported below
            failures.append(f"{n}: {exc!r}")

    threads = [threading.Thread(target=administrator, args=(n, d)) for n, d in enumerate(drivers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=2 * web.TIMEOUT)
    assert not failures, failures
    assert abs(clicked[0] - clicked[1]) < 1  # the two clicks went out together

    decided = sql(url, """SELECT c.cert_no, a.amount FROM awards a JOIN certificates c ON c.id = a.certificate_id
                          JOIN enterprises e ON e.id = a.enterprise_id
                          WHERE e.uscc = :u AND a.status IN ('approved', 'paid') ORDER BY c.cert_no""", u=uscc)
    assert sum(amount for _, amount in decided) <= CEILING
    # by hand, in either order: under the lock each approval re-allocates first, so the third certificate gets what
    # the ceiling leaves after 20 + 20万元, 10万元, and the two approvals together stop at 20 + 20 + 10 = 50万元
    assert decided == [(certs[0], 200_000), (certs[1], 200_000), (certs[2], 100_000)]
    assert any(a.startswith("已批准 1 项，合计 20万元") for a in shown[0]), shown
    assert any(a.startswith("已批准 1 项，合计 10万元") for a in shown[1]), shown  # asked for 20万元: the partial
    approvals = sql(url, "SELECT entity_key FROM audit_log WHERE action = 'award.approve' AND entity_key IN (:b, :c) "
                         "ORDER BY entity_key", b=certs[1], c=certs[2])
    assert approvals == [(certs[1],), (certs[2],)]  # each approved once
    for driver in drivers:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                              driver.find_element("css selector", "[data-testid='stAlert']"))
        kind = "partial" if driver is other_browser else "whole"
        web.screenshot(driver, f"admin-ledger-race-{race_app.db_url.split(':')[0]}-{kind}")
