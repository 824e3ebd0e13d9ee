"""认证台账 through the app (AppTest) on the demo database: a file with three bad rows (the three problems shown, the
same report file as `mtx certs import --report`, nothing written), a good file imported as `mtx certs import` imports
it, approval through the confirmation changing the enterprise's balance, revoke and pay, the evaluator's read-only
view, the enterprise's refusal, and two administrators approving the same enterprise at once (SQLite and PostgreSQL)."""
from __future__ import annotations

import io
import json
import shutil
import threading
from pathlib import Path

import pytest
import streamlit as st
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tests.ledger.files import good_row, write_xlsx
from tracker.access import AccessDenied, Actor
from tracker.cli import main
from tracker.ledger import office
from tracker.ledger.uscc import fictional_uscc

CONFIG = Path(__file__).resolve().parents[2] / "config"
ADMIN, EVALUATOR = Actor("admin", "admin"), Actor("evaluator", "evaluator")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NEW = fictional_uscc(901)  # the good file's new enterprise: three first-version products, 20 + 20 + 10 = 50万元
TABLES = ("enterprises", "products", "certificates", "awards", "audit_log")


def open_ledger(monkeypatch, url, actor, page="views/ledger.py"):
    monkeypatch.setenv("MTX_DATABASE_URL", url)
    monkeypatch.setenv("MTX_CONFIG", str(CONFIG))
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["actor"] = actor
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def mtx(url, *args, user="admin"):
    return main(["--db", url, "--config", str(CONFIG), "--as", user, *args])


def counts(url) -> dict:
    with create_engine(url).connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}


def good_rows() -> list[dict]:
    return [good_row(i, enterprise=901, 通过日期=f"2025-0{i}-10", 产品名称=f"星河 {i} 号开发板") for i in (1, 2, 3)] + \
        [good_row(4, enterprise=902, 通过日期="2025-06-01")]


def bad_rows() -> list[dict]:
    wrong = fictional_uscc(903)[:-1] + ("0" if fictional_uscc(903)[-1] != "0" else "1")
    return [good_row(11, enterprise=903), good_row(12, enterprise=903, 统一社会信用代码=wrong),
            good_row(13, enterprise=903), good_row(14, enterprise=903, 通过日期="2025-13-45"),
            good_row(15, enterprise=903, 产品类型="手表")]


def xlsx_bytes(tmp_path, name, rows) -> tuple[Path, bytes]:
    path = write_xlsx(tmp_path / name, rows)
    return path, path.read_bytes()


def upload(at, name, data):
    at.get("file_uploader")[0].set_value((name, data, XLSX))
    at.run()
    assert not at.exception, at.exception
    return at


def click(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


COLUMN_OF = {"import_issues": "改正", "import_summary": "结果", "certificates": "证书编号", "detail_certificate": "内容",
             "detail_audit": "操作"}  # AppTest does not expose a dataframe's key: each table is found by its column


def table(at, name):
    return next(d.value for d in at.dataframe if COLUMN_OF[name] in d.value.columns)


def sheet_values(data_or_path, skip_rows_starting=()) -> dict:
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    wb = load_workbook(source)
    return {ws.title: [row for row in ws.iter_rows(values_only=True) if row[0] not in skip_rows_starting]
            for ws in wb.worksheets}


def balance(url, uscc, user="admin") -> dict:
    import contextlib

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert mtx(url, "certs", "balance", uscc, "--json", user=user) == 0
    return json.loads(out.getvalue())


def test_three_bad_rows_show_their_three_problems_and_nothing_is_written(monkeypatch, demo_db_url, tmp_path):
    path, data = xlsx_bytes(tmp_path, "三行有误.xlsx", bad_rows())
    before = counts(demo_db_url)
    at = open_ledger(monkeypatch, demo_db_url, ADMIN)
    upload(at, path.name, data)
    issues = table(at, "import_issues")
    assert list(zip(issues["行"], issues["级别"], issues["代码"])) == [
        (3, "错误", "uscc.wrong_check_character"), (5, "错误", "pass_date.bad_date"),
        (6, "错误", "product_type.bad_product_type")]
    assert all(issues["改正"].str.len() > 0)
    assert any("发现 3 个错误" in e.value and "未写入任何数据" in e.value for e in at.error)
    assert "确认导入" not in [b.label for b in at.button]
    assert {d.label for d in at.get("download_button")} >= {"下载问题清单（XLSX）", "下载问题清单（CSV）"}
    assert counts(demo_db_url) == before
    # the downloadable report is the file `mtx certs import --report` writes (on a copy, which refuses the file too)
    report = at.session_state["ledger_checked"][1]
    cli_db = tmp_path / "cli.db"
    shutil.copyfile(demo_db_url.removeprefix("sqlite:///"), cli_db)
    assert mtx(f"sqlite:///{cli_db}", "certs", "import", str(path), "--report", str(tmp_path / "r.xlsx")) == 1
    assert sheet_values(office.report_file(report, ".xlsx")) == sheet_values(tmp_path / "r.xlsx")
    assert office.report_file(report, ".csv").decode("utf-8-sig").splitlines()[1].startswith("3,统一社会信用代码,")


def test_a_good_file_imports_as_the_cli_does_then_approval_changes_the_balance(monkeypatch, demo_db_url, tmp_path):
    path, data = xlsx_bytes(tmp_path, "证书.xlsx", good_rows())
    cli_db = tmp_path / "cli.db"
    shutil.copyfile(demo_db_url.removeprefix("sqlite:///"), cli_db)
    cli_url = f"sqlite:///{cli_db}"
    before = counts(demo_db_url)

    at = open_ledger(monkeypatch, demo_db_url, ADMIN)
    upload(at, path.name, data)
    assert counts(demo_db_url) == before  # the check wrote nothing
    assert any(s.value.startswith("检查通过，尚未写入：4 行；新企业 2 家") and "新证书 4 张" in s.value for s in at.success)
    click(at, "确认导入")
    assert counts(demo_db_url) == before  # not before the confirmation
    click(at, "确认")
    assert any(s.value.startswith("已导入：4 行；新企业 2 家") and "新证书 4 张" in s.value for s in at.success)
    summary = dict(zip(*table(at, "import_summary").T.values))
    assert summary["新证书"] == "4" and summary["新企业"] == "2" and summary["奖励：新核算"] == "4"
    assert not at.get("file_uploader")[0].value  # the upload is cleared: the same file is not offered again

    assert mtx(cli_url, "certs", "import", str(path)) == 0
    for query in ("SELECT name, uscc, district, registered_in_chongqing FROM enterprises ORDER BY uscc",
                  "SELECT e.uscc, p.name, p.normalised_name, p.product_type, p.first_version FROM products p "
                  "JOIN enterprises e ON e.id = p.enterprise_id ORDER BY e.uscc, p.normalised_name",
                  "SELECT c.cert_no, p.name, c.issuer, c.programme, c.os_version, c.api_level, c.pass_date, c.status, "
                  "c.derived_from_no FROM certificates c JOIN products p ON p.id = c.product_id ORDER BY c.cert_no",
                  "SELECT c.cert_no, a.amount, a.status, a.reason_code, a.reason, a.rule_set_version FROM awards a "
                  "JOIN certificates c ON c.id = a.certificate_id ORDER BY c.cert_no",
                  "SELECT actor, action, entity, entity_key FROM audit_log ORDER BY id"):
        with create_engine(demo_db_url).connect() as page, create_engine(cli_url).connect() as cli:
            assert page.execute(text(query)).all() == cli.execute(text(query)).all(), query
    assert counts(demo_db_url)["certificates"] == before["certificates"] + 4

    was = balance(demo_db_url, NEW)
    assert (was["awarded"], was["approved"], was["remaining"]) == (500_000, 0, 0)
    at.text_input(key="f_enterprise").input(NEW).run()
    listed = table(at, "certificates")
    assert list(listed["证书编号"]) == ["OH-TEST-00001", "OH-TEST-00002", "OH-TEST-00003"]
    assert list(listed["奖励金额"]) == ["20万元", "20万元", "10万元"]
    at.selectbox(key="detail_cert").select("OH-TEST-00003").run()
    click(at, "批准该企业全部待批准的奖励")
    assert balance(demo_db_url, NEW)["approved"] == 0  # not before the confirmation
    click(at, "确认")
    assert "已批准 3 项，合计 50万元" in [s.value for s in at.success]
    now = balance(demo_db_url, NEW)
    assert (now["awarded"], now["approved"], now["paid"], now["remaining"]) == (500_000, 500_000, 0, 0)
    assert [p["award_status"] for p in now["products"]] == ["approved"] * 3
    with create_engine(demo_db_url).connect() as conn:
        assert conn.execute(text("SELECT DISTINCT actor FROM audit_log WHERE action = 'award.approve'")).all() == \
            [("admin",)]
    click(at, "批准该企业全部待批准的奖励")  # again: nothing left; the refusal is shown as one and still audited
    click(at, "确认")
    assert "未批准：没有待批准的奖励" in [e.value for e in at.error] and not at.success
    with create_engine(demo_db_url).connect() as conn:
        assert conn.execute(text("SELECT actor, entity_key FROM audit_log WHERE action = 'award.approve_refused'")
                            ).all() == [("admin", NEW)]
    # what the enterprise's own user sees: its balance and the overview's award line
    from tracker import db as dbm
    from tracker.access import SYSTEM
    from tracker.users import create_user

    with dbm.session_scope(demo_db_url) as s:
        enterprise_id = create_user(s, SYSTEM, "xinghe", "enterprise", "Xinghe-2025-demo", NEW).enterprise_id
    assert balance(demo_db_url, NEW, user="xinghe")["approved"] == 500_000
    st.cache_data.clear()
    overview = open_ledger(monkeypatch, demo_db_url, Actor("xinghe", "enterprise", enterprise_id), "views/overview.py")
    assert any("已批准 50万元" in c.value for c in overview.caption)


def test_revoke_needs_a_reason_and_a_confirmation_and_pay_needs_an_approval(monkeypatch, demo_db_url):
    with create_engine(demo_db_url).connect() as conn:
        cert_no, uscc = conn.execute(text(
            "SELECT c.cert_no, e.uscc FROM certificates c JOIN products p ON p.id = c.product_id JOIN enterprises e "
            "ON e.id = p.enterprise_id JOIN awards a ON a.certificate_id = c.id WHERE a.amount = 200000 "
            "AND a.status = 'computed' ORDER BY c.cert_no LIMIT 1")).one()
    at = open_ledger(monkeypatch, demo_db_url, ADMIN)
    at.text_input(key="f_enterprise").input(uscc).run()
    at.selectbox(key="detail_cert").select(cert_no).run()
    assert "登记拨付" not in [b.label for b in at.button]  # computed, not approved: nothing to pay
    click(at, "批准本证书的奖励")
    click(at, "确认")
    assert "已批准 1 项，合计 20万元" in [s.value for s in at.success]
    click(at, "登记拨付")
    click(at, "确认")
    assert f"已登记拨付 {cert_no}：20万元" in [s.value for s in at.success]

    before = counts(demo_db_url)
    click(at, "撤销证书")  # no reason: refused on the page, no question asked
    assert "撤销须写明原因。" in [e.value for e in at.error] and "确认" not in [b.label for b in at.button]
    at.text_input(key="revoke_reason").input("企业申请撤销（测试）")
    click(at, "撤销证书")
    assert counts(demo_db_url) == before  # asked, not yet done
    click(at, "确认")
    assert f"已撤销 {cert_no}；奖励 待追回 20万元" in [s.value for s in at.success]
    with create_engine(demo_db_url).connect() as conn:
        assert conn.execute(text("SELECT c.status, c.revoked_reason, a.status FROM certificates c JOIN awards a ON "
                                 "a.certificate_id = c.id WHERE c.cert_no = :n"), {"n": cert_no}).one() == \
            ("revoked", "企业申请撤销（测试）", "to_recover")
        actions = conn.execute(text("SELECT action, actor FROM audit_log WHERE entity_key = :n AND action IN "
                                    "('award.approve', 'award.pay', 'certificate.revoke', 'award.revoke') ORDER BY id"),
                               {"n": cert_no}).all()
    assert actions == [("award.approve", "admin"), ("award.pay", "admin"), ("certificate.revoke", "admin"),
                       ("award.revoke", "admin")]
    trail = table(at, "detail_audit")
    assert list(trail["操作"])[-4:] == ["批准奖励", "登记拨付", "撤销证书", "撤销后处理奖励"]


def test_filters_and_pages_are_cut_in_sql_in_the_cli_order(monkeypatch, demo_db_url):
    import datetime as dt

    from tracker import db as dbm

    query = ("SELECT c.cert_no FROM certificates c JOIN products p ON p.id = c.product_id JOIN enterprises e ON "
             "e.id = p.enterprise_id {} ORDER BY e.name, e.uscc, c.pass_date, c.cert_no")
    with create_engine(demo_db_url).connect() as conn:
        order = list(conn.execute(text(query.format(""))).scalars())
        district = conn.execute(text("SELECT district FROM enterprises WHERE district IS NOT NULL ORDER BY id")
                                ).scalar()
        wanted = list(conn.execute(text(query.format(
            "WHERE e.district = :d AND c.status = 'valid' AND c.pass_date >= '2025-06-01'")),
            {"d": district}).scalars())
    assert len(order) > 20 and wanted
    at = open_ledger(monkeypatch, demo_db_url, ADMIN)
    at.selectbox(key="f_size").select(20).run()
    assert any(f"共 {len(order):,} 张证书，第 1–20 张" in c.value for c in at.caption)
    assert list(table(at, "certificates")["证书编号"]) == order[:20]
    with dbm.session_scope(demo_db_url) as s:  # the second page, as the page asks for it
        page = office.certificate_page(s, ADMIN, limit=20, offset=20)
    assert [r["cert_no"] for r in page.rows] == order[20:40] and page.total == len(order)
    at.selectbox(key="f_district").select(district).run()
    at.selectbox(key="f_cert_status").select("valid").run()
    at.date_input(key="f_from").set_value(dt.date(2025, 6, 1)).run()
    assert list(table(at, "certificates")["证书编号"]) == wanted


def test_an_evaluator_reads_without_controls_and_the_tracker_refuses_changes(monkeypatch, demo_db_url, tmp_path):
    at = open_ledger(monkeypatch, demo_db_url, EVALUATOR)
    assert at.title[0].value == "认证台账"
    assert not at.get("file_uploader")
    assert [d.label for d in at.get("download_button")] == ["下载公示名单（XLSX）"]
    first = table(at, "certificates")["证书编号"][0]
    at.selectbox(key="detail_cert").select(first).run()
    assert not at.exception and table(at, "detail_certificate") is not None
    assert [b.label for b in at.button] == ["退出登录"]  # no approve, pay, revoke or import
    assert not at.text_input(key="f_enterprise").disabled  # the filters are the evaluator's

    before = counts(demo_db_url)
    _, data = xlsx_bytes(tmp_path, "证书.xlsx", good_rows())
    from tracker import db as dbm

    attempts = [lambda s: office.check_file(s, EVALUATOR, "证书.xlsx", data, CONFIG),
                lambda s: office.import_file(s, EVALUATOR, "证书.xlsx", data, CONFIG),
                lambda s: office.approve(s, EVALUATOR, CONFIG, cert_no=first),
                lambda s: office.pay(s, EVALUATOR, first),
                lambda s: office.revoke(s, EVALUATOR, CONFIG, first, "不应成功")]
    for attempt in attempts:
        with pytest.raises(AccessDenied), dbm.session_scope(demo_db_url) as s:
            attempt(s)
    assert counts(demo_db_url) == before
    with dbm.session_scope(demo_db_url) as s:  # what an evaluator may do: read, and the 公示 list
        assert office.certificate_page(s, EVALUATOR, limit=5).total == before["certificates"]
        office.public_list_file(s, EVALUATOR, office.configured_rules(CONFIG))


def test_an_enterprise_user_is_refused_the_page_and_the_functions(monkeypatch, demo_db_url):
    from tracker import db as dbm

    with create_engine(demo_db_url).connect() as conn:
        enterprise_id = conn.execute(text("SELECT enterprise_id FROM users WHERE username = 'enterprise'")).scalar()
        cert_no = conn.execute(text("SELECT cert_no FROM certificates ORDER BY id LIMIT 1")).scalar()
    actor = Actor("enterprise", "enterprise", enterprise_id)
    at = open_ledger(monkeypatch, demo_db_url, actor, "views/refused.py")
    assert at.title[0].value == "无权访问" and not at.dataframe
    rules = office.configured_rules(CONFIG)
    for attempt in (lambda s: office.certificate_page(s, actor), lambda s: office.ledger_filters(s, actor),
                    lambda s: office.certificate_detail(s, actor, cert_no, rules),
                    lambda s: office.public_list_file(s, actor, rules),
                    lambda s: office.approve(s, actor, CONFIG, cert_no=cert_no)):
        with pytest.raises(AccessDenied), dbm.session_scope(demo_db_url) as s:
            attempt(s)


def test_the_downloads_are_the_cli_files(demo_db_url, tmp_path):
    from tracker import db as dbm

    assert mtx(demo_db_url, "awards", "approve", "--all") == 0
    assert mtx(demo_db_url, "awards", "export", str(tmp_path / "公示.xlsx")) == 0
    with dbm.session_scope(demo_db_url) as s:
        data = office.public_list_file(s, ADMIN, office.configured_rules(CONFIG))
    assert sheet_values(data, ("生成时间",)) == sheet_values(tmp_path / "公示.xlsx", ("生成时间",))
    assert sheet_values(data)["公示名单"][-1][-2] > 0
    assert mtx(demo_db_url, "certs", "template", str(tmp_path / "t.xlsx")) == 0
    assert sheet_values(office.template_file(".xlsx")) == sheet_values(tmp_path / "t.xlsx")
    assert mtx(demo_db_url, "certs", "template", str(tmp_path / "t.csv")) == 0
    assert office.template_file(".csv") == (tmp_path / "t.csv").read_bytes()


# --- two administrators at the same moment ----------------------------------------------------------------------------

PRODUCTS, THREADS, CEILING = 6, 8, 500_000


@pytest.mark.postgres
def test_two_administrators_approving_at_once_never_exceed_the_ceiling(db_url, session):
    """Awards computed before the ceiling was known (every product at 20万元): unserialised approvals would pay 120万.
    Each thread approves through the page's call (office.approve) in its own transaction, as run_step runs it."""
    from sqlalchemy import func, select

    from tests.ledger.conftest import add_certificate, add_enterprise
    from tracker import db as dbm
    from tracker.models import AuditEntry, Award

    enterprise = add_enterprise(session, 77)
    for i in range(PRODUCTS):
        cert = add_certificate(session, enterprise, f"RACE-{i:02d}", f"并发产品{i}", f"2025-0{1 + i}-10")
        session.add(Award(enterprise_id=enterprise.id, product_id=cert.product_id, certificate_id=cert.id,
                          amount=200_000, status="computed", reason_code="awarded", reason="（陈旧的核算结果）",
                          rule_set_version="stale"))
    session.commit()
    uscc = enterprise.uscc
    session.close()

    barrier = threading.Barrier(THREADS)
    results, failures = [], []

    def administrator(n: int) -> None:
        try:
            barrier.wait(timeout=60)
            with dbm.session_scope(db_url) as s:
                target = {"uscc": uscc} if n % 2 == 0 else {"cert_no": f"RACE-{n % PRODUCTS:02d}"}
                results.append(office.approve(s, Actor(f"admin-{n}", "admin"), CONFIG, **target))
        except BaseException as exc:  # reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=administrator, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    approved = [o for outcomes in results for o in outcomes if o.approved]
    assert sum(o.amount for o in approved) == CEILING
    assert len({o.cert_no for o in approved}) == len(approved)
    with dbm.session_scope(db_url) as check:
        assert check.scalar(select(func.sum(Award.amount)).where(Award.status == "approved")) == CEILING
        actors = set(check.scalars(select(AuditEntry.actor).where(
            AuditEntry.action.in_(["award.approve", "award.approve_refused"]))))
    assert actors == {f"admin-{n}" for n in range(THREADS)}  # every attempt recorded under its administrator
