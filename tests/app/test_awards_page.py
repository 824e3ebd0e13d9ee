"""我的奖励 through the app (AppTest) on the scale-1 sample: an enterprise user sees its own enterprise, the balance
computed here by hand from its certificates and config/awards.yaml, its certificates as the database holds them,
the statement the page serves (only its rows, the same as `mtx awards export --enterprise`), and, for every
enterprise of the sample, nothing of any other enterprise on any page it may open or in its download."""
from __future__ import annotations

import io
import json

import pytest
import yaml
from google.protobuf import text_format
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tests.app.test_ranking import CONFIG
from tracker.access import SYSTEM, AccessDenied, Actor
from tracker.cli import main
from tracker.sample import expected_sizes
from views.pages import PAGES

PASSWORD = "enterprise-password"
RULES = yaml.safe_load((CONFIG / "awards.yaml").read_text(encoding="utf-8"))


def sql(url, statement, **params):
    with create_engine(url).connect() as conn:
        return conn.execute(text(statement), params).all()


def enterprises(url):
    return sql(url, "SELECT id, name, uscc FROM enterprises ORDER BY id")


def certificates_of(url, enterprise_id):
    """(cert_no, product, product type, version, pass date, status) of one enterprise, in pass-date order."""
    return sql(url, "SELECT c.cert_no, p.name, p.product_type, c.os_version, c.pass_date, c.status, p.id, "
                    "c.derived_from_no FROM certificates c JOIN products p ON p.id = c.product_id "
                    "WHERE p.enterprise_id = :e ORDER BY c.pass_date, c.cert_no", e=enterprise_id)


def account_for(url, enterprise_id, username):
    """An enterprise user of the enterprise (the app re-checks the signed-in user against the users table)."""
    from tracker import db as dbm
    from tracker.models import Enterprise
    from tracker.users import create_user

    with dbm.session_scope(url) as s:
        create_user(s, SYSTEM, username, "enterprise", PASSWORD, s.get(Enterprise, enterprise_id).uscc)
    return Actor(username, "enterprise", enterprise_id)


class Downloads:
    """Records the media file managers AppTest creates, so a test can click a download as the browser would: the
    page's own callable runs and its bytes are read back."""

    def __init__(self, monkeypatch):
        import streamlit.testing.v1.app_test as app_test

        self.managers = []
        base = app_test.MediaFileManager
        outer = self

        class Recording(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                outer.managers.append(self)

        monkeypatch.setattr(app_test, "MediaFileManager", Recording)

    def click(self, at, label) -> bytes:
        button = next(b for b in at.get("download_button") if b.proto.label == label)
        manager = self.managers[-1]
        url = manager.execute_deferred(button.proto.deferred_file_id)  # what clicking does in the browser
        return manager.read_file(url.rsplit("/", 1)[1].split(".")[0]).content


@pytest.fixture
def downloads(monkeypatch):
    return Downloads(monkeypatch)


def open_app(monkeypatch, url, actor=None):
    monkeypatch.setenv("MTX_DATABASE_URL", url)
    monkeypatch.setenv("MTX_CONFIG", str(CONFIG))
    at = AppTest.from_file(APP, default_timeout=90)
    if actor is not None:
        at.session_state["actor"] = actor
    at.run()
    assert not at.exception, at.exception
    return at


def open_awards(monkeypatch, url, actor):
    at = open_app(monkeypatch, url, actor)
    at.switch_page("views/awards.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "我的奖励"
    return at


def rendered_text(at) -> str:
    """Everything the run drew, main area and sidebar: every element's message as text (labels, values, help,
    captions, progress text…), and every table's cells."""
    parts = []
    pending = [at._tree]
    while pending:
        node = pending.pop()
        pending.extend(getattr(node, "children", {}).values())
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        if node.type in ("arrow_data_frame", "arrow_table", "dataframe", "table"):
            parts.append(node.value.to_csv())
    return "\n".join(parts)


def xlsx_sheets(data: bytes) -> dict[str, list[list[str]]]:
    """Every sheet's rows as text (empty cells as "", none after a row's last value)."""
    from openpyxl import load_workbook

    def cells(row):
        values = ["" if v is None else str(v) for v in row]
        while values and values[-1] == "":
            values.pop()
        return values

    book = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [cells(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def all_cells(sheets) -> str:
    return "\n".join("\t".join(row) for rows in sheets.values() for row in rows)


def statement_certificates(sheets) -> list[str]:
    """The certificate numbers of a statement's 对账单 sheet: the rows below its certificate header row."""
    cells = sheets["对账单"]
    header = cells.index(["产品名称", "证书编号", "奖励金额（元）", "奖励状态", "证书状态", "原因代码", "原因"])
    return [row[1] for row in cells[header + 1:]]


def by_hand(certs, registered_in_chongqing=True):
    """The sample's ledger by hand, for enterprises whose certificates are all valid, eligible and in the policy
    period: each product's first certificate earns amount_per_product, the last one what is left under the ceiling
    (last_award: partial), re-certifications and series certificates nothing."""
    assert RULES["last_award"] == "partial" and RULES["ceiling"]["unit"] == "yuan" and registered_in_chongqing
    per, ceiling = RULES["amount_per_product"], RULES["ceiling"]["amount"]
    seen, used, awards = set(), 0, {}
    for cert_no, _name, _type, _version, _date, status, product, derived in certs:
        assert status == "valid"
        if product in seen or derived:
            awards[cert_no] = 0
        else:
            awards[cert_no] = min(per, ceiling - used)
            used += awards[cert_no]
        seen.add(product)
    remaining = ceiling - used
    return awards, used, remaining, min(per, remaining)


def wan(amount: int) -> str:
    return f"{amount // 10000}万元" if amount else "0 元"


def table(at):
    return next(d.value for d in at.dataframe if "证书编号" in d.value.columns)


def test_an_enterprise_user_signs_in_and_sees_its_own_enterprise_at_the_ceiling(monkeypatch, sample_db_url):
    """The sample's first enterprise: three first-time products, the third past the ceiling (20 + 20 + 10)."""
    (eid, name, uscc), *_ = enterprises(sample_db_url)
    account_for(sample_db_url, eid, "ent-first")
    at = open_app(monkeypatch, sample_db_url)
    at.text_input[0].input("ent-first")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "我的奖励" in [p.title for p in PAGES if "enterprise" in p.roles]
    at.switch_page("views/awards.py").run()
    assert not at.exception, at.exception

    certs = certificates_of(sample_db_url, eid)
    awards, used, remaining, next_one = by_hand(certs)
    assert (used, remaining, next_one) == (500_000, 0, 0)  # the case the sample places here
    assert at.subheader[0].value == name and f"统一社会信用代码 {uscc}" in [c.value for c in at.caption]
    assert f"上限 50万元，已计入 {wan(used)}，剩余 {wan(remaining)}；再有一个首次认证产品可得 {wan(next_one)}" in [
        m.value for m in at.markdown]
    assert at.get("progress")[0].proto.value == 100
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["剩余额度"] == wan(remaining) and metrics["已计入上限（已核算+已批准+已拨付）"] == wan(used)
    shown = table(at)
    assert list(shown["证书编号"]) == [c[0] for c in certs]
    assert list(shown["产品"]) == [c[1] for c in certs]
    assert list(shown["产品类型"]) == [c[2] for c in certs]
    assert list(shown["系统版本"]) == [c[3] for c in certs]
    assert list(shown["通过日期"]) == [str(c[4]) for c in certs]
    assert list(shown["奖励金额"]) == [wan(awards[c[0]]) for c in certs] == ["20万元", "20万元", "10万元"]
    assert list(shown["首次认证"]) == ["是"] * 3
    assert "部分奖励 10万元" in shown["原因"].iloc[2]


def test_a_recertification_earns_nothing_and_the_balance_says_the_issue_sentence(monkeypatch, sample_db_url):
    """The sample's second enterprise: a product certified again on a newer version, and a second product."""
    (_, (eid, name, uscc), *_) = enterprises(sample_db_url)
    at = open_awards(monkeypatch, sample_db_url, account_for(sample_db_url, eid, "ent-second"))
    certs = certificates_of(sample_db_url, eid)
    awards, used, remaining, next_one = by_hand(certs)
    assert "上限 50万元，已计入 40万元，剩余 10万元；再有一个首次认证产品可得 10万元" in [m.value for m in at.markdown]
    assert (used, remaining, next_one) == (400_000, 100_000, 100_000)
    shown = table(at).set_index("证书编号")
    recertified = next(c[0] for c in certs if awards[c[0]] == 0)
    first = next(c for c in certs if c[6] == next(x[6] for x in certs if x[0] == recertified))
    assert shown.loc[recertified, "奖励金额"] == "0 元"
    assert shown.loc[recertified, "首次认证"].startswith("否（复评")
    assert f"已于 {first[4]} 取得证书 {first[0]}" in shown.loc[recertified, "原因"]
    assert "每个产品只奖励首次认证一次" in shown.loc[recertified, "原因"]


def test_a_paid_award_of_a_revoked_certificate_is_to_recover_and_the_page_agrees_with_mtx(
        monkeypatch, sample_db_url, capsys):
    """Approve the first enterprise, pay its first award, revoke that certificate: 20万元 待追回, no longer counted;
    the approved 20万元 + 10万元 count, so 20万元 is left."""
    (eid, _name, uscc), *_ = enterprises(sample_db_url)
    certs = certificates_of(sample_db_url, eid)
    base = ["--db", sample_db_url, "--config", str(CONFIG)]
    assert main([*base, "awards", "approve", uscc]) == 0
    assert main([*base, "awards", "pay", certs[0][0]]) == 0
    assert main([*base, "certs", "revoke", certs[0][0], "--reason", "示例：复核不通过"]) == 0
    capsys.readouterr()
    assert main([*base, "certs", "balance", uscc, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)

    at = open_awards(monkeypatch, sample_db_url, account_for(sample_db_url, eid, "ent-first"))
    assert "上限 50万元，已计入 30万元，剩余 20万元；再有一个首次认证产品可得 20万元" in [m.value for m in at.markdown]
    assert (cli["awarded"], cli["remaining"], cli["next_product_amount"], cli["to_recover"]) == (
        300_000, 200_000, 200_000, 200_000)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["剩余额度"] == wan(cli["remaining"]) and metrics["再有一个首次认证产品可得"] == wan(
        cli["next_product_amount"])
    assert "待追回 20万元（不计入上限）" in " ".join(c.value for c in at.caption)
    row = table(at).set_index("证书编号").loc[certs[0][0]]
    assert (row["证书状态"], row["奖励状态"], row["奖励金额"], row["计入上限"]) == ("已撤销", "待追回", "20万元", "否")
    assert "已拨付的 20万元 奖励待追回" in row["原因"]


def test_a_certificate_not_yet_computed_shows_no_amount_rather_than_zero(monkeypatch, sample_db_url):
    (eid, _name, _uscc), *_ = enterprises(sample_db_url)
    last = certificates_of(sample_db_url, eid)[-1][0]
    with create_engine(sample_db_url).begin() as conn:  # as if imported with --no-recompute
        conn.execute(text("DELETE FROM awards WHERE certificate_id = (SELECT id FROM certificates WHERE cert_no = :c)"),
                     {"c": last})
    at = open_awards(monkeypatch, sample_db_url, account_for(sample_db_url, eid, "ent-first"))
    row = table(at).set_index("证书编号").loc[last]
    assert (row["奖励金额"], row["奖励状态"], row["计入上限"]) == ("—", "未核算", "否")
    assert "上限 50万元，已计入 40万元，剩余 10万元；再有一个首次认证产品可得 10万元" in [m.value for m in at.markdown]


def test_the_statement_download_is_the_cli_statement_and_holds_only_its_rows(monkeypatch, sample_db_url, downloads,
                                                                           tmp_path):
    (_, (eid, name, uscc), *others) = enterprises(sample_db_url)
    at = open_awards(monkeypatch, sample_db_url, account_for(sample_db_url, eid, "ent-second"))
    sheets = xlsx_sheets(downloads.click(at, "下载对账单（XLSX）"))
    assert statement_certificates(sheets) == [c[0] for c in certificates_of(sample_db_url, eid)]
    assert sheets["对账单"][:2] == [["企业名称", name], ["统一社会信用代码", uscc]]
    path = tmp_path / "对账单.xlsx"
    assert main(["--db", sample_db_url, "--config", str(CONFIG), "--as", "ent-second", "awards", "export", str(path),
                 "--enterprise", uscc]) == 0
    expected = xlsx_sheets(path.read_bytes())
    assert list(sheets) == list(expected) == ["对账单", "规则说明"]
    assert sheets["对账单"] == expected["对账单"]
    differ = [(a, b) for a, b in zip(sheets["规则说明"], expected["规则说明"]) if a != b]
    assert len(sheets["规则说明"]) == len(expected["规则说明"]) and [a[0] for a, _ in differ] in ([], ["生成时间"])
    everything = all_cells(sheets)
    assert not [x for _, n, u in others for x in (n, u) if x in everything]


def test_asking_for_another_enterprise_is_refused(sample_db_url):
    from tracker import db as dbm
    from tracker.ledger.my_awards import my_awards, statement_bytes
    from tracker.ledger.rules import rules_from_config

    rules = rules_from_config(CONFIG)
    (eid, _, own), (_, _, other), *_ = enterprises(sample_db_url)
    actor = Actor("ent", "enterprise", eid)
    with dbm.session_scope(sample_db_url) as s:
        assert my_awards(s, actor, rules)["uscc"] == own
        assert my_awards(s, actor, rules, own)["uscc"] == own
        for code in (other, "91500000MA5U00000X"):  # another enterprise's code, or one that does not exist
            with pytest.raises(AccessDenied) as refused:
                my_awards(s, actor, rules, code)
            assert refused.value.zh == "用户 ent 只能查看本企业的数据"
            with pytest.raises(AccessDenied):
                statement_bytes(s, actor, rules, code)
        assert my_awards(s, Actor("admin", "admin"), rules, other)["uscc"] == other


ENTERPRISE_PAGES = [p for p in PAGES if "enterprise" in p.roles]


@pytest.mark.parametrize("index", range(expected_sizes(1)["enterprises"]))
def test_an_enterprise_sees_nothing_of_any_other_enterprise(monkeypatch, sample_db_url, downloads, index):
    """Every page an enterprise user may open, and its statement: no other enterprise's name, code, product or
    certificate number anywhere, while its own appear."""
    rows = enterprises(sample_db_url)
    assert len(rows) == expected_sizes(1)["enterprises"]  # every enterprise of the sample has its case here
    eid, name, uscc = rows[index]
    actor = account_for(sample_db_url, eid, f"ent-{index:02d}")
    at = open_app(monkeypatch, sample_db_url, actor)
    texts, files = [], []
    for page in ENTERPRISE_PAGES:
        at.switch_page(page.file).run()
        assert not at.exception, (page.title, at.exception)
        assert at.title[0].value == page.title
        texts.append(rendered_text(at))
        if page.file == "views/awards.py":
            files.append(xlsx_sheets(downloads.click(at, "下载对账单（XLSX）")))
            assert statement_certificates(files[-1]) == [c[0] for c in certificates_of(sample_db_url, eid)]
    assert files, "the statement was downloaded"
    seen = "\n".join(texts + [all_cells(sheets) for sheets in files])
    own = [name, uscc, *(c[0] for c in certificates_of(sample_db_url, eid))]
    assert all(x in "\n".join(texts) and x in all_cells(files[0]) for x in own)  # the check looks where data shows
    foreign = sql(sample_db_url, "SELECT e.name, e.uscc, p.name, c.cert_no FROM enterprises e "
                                 "JOIN products p ON p.enterprise_id = e.id JOIN certificates c ON c.product_id = p.id "
                                 "WHERE e.id != :e", e=eid)
    leaked = sorted({x for row in foreign for x in row if x in seen})
    assert not leaked, leaked
