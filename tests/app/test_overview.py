"""The overview page shows the database's real figures (counted here independently, in SQL)."""
from __future__ import annotations

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from tracker import db as dbm
from tracker.access import Actor
from tests.app.conftest import APP


def sql(url: str, query: str) -> int:
    with dbm.get_engine(url).connect() as conn:
        return conn.execute(text(query)).scalar()


def run_app(monkeypatch, url: str, actor: Actor | None) -> AppTest:
    """The app with `actor` already signed in (a demo account, since every page run re-checks the account)."""
    from tracker.cli.sample import ensure_demo_accounts

    ensure_demo_accounts(url)
    monkeypatch.setenv("MTX_DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=30)
    if actor is not None:
        at.session_state["actor"] = actor
    at.run()
    assert not at.exception, at.exception
    return at


# commits as every figure counts them: not merges, authors (their resolved person) not bots
COUNTED = ("FROM commits c JOIN commit_identities i ON i.id = c.author_identity_id "
           "LEFT JOIN people p ON p.id = i.person_id "
           "WHERE NOT c.is_merge AND NOT COALESCE(p.is_bot, i.is_bot, c.is_bot)")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_the_sample_counts(monkeypatch, sample_db_url):
    at = run_app(monkeypatch, sample_db_url, Actor("admin", "admin"))
    shown = metrics(at)
    url = sample_db_url
    expected = {
        "社区": sql(url, "SELECT COUNT(*) FROM communities"),
        "仓库": sql(url, "SELECT COUNT(*) FROM repositories"),
        "提交（镜像去重，不含机器人与合并）": sql(url, "SELECT COUNT(DISTINCT c.sha) " + COUNTED),
        "贡献者（不含机器人）": sql(url, "SELECT COUNT(DISTINCT COALESCE(i.person_id, -i.id)) " + COUNTED),
        "企业": sql(url, "SELECT COUNT(*) FROM enterprises"),
        "证书": sql(url, "SELECT COUNT(*) FROM certificates"),
        "产品": sql(url, "SELECT COUNT(*) FROM products"),
    }
    assert expected["社区"] == 13 and expected["仓库"] == 42 and expected["企业"] == 15  # with the integrity case
    for label, value in expected.items():
        assert shown[label] == f"{value:,}", label
    # mirrors are counted once: fewer distinct shas than commit rows
    assert expected["提交（镜像去重，不含机器人与合并）"] < sql(url, "SELECT COUNT(*) FROM commits")
    awarded = sql(url, "SELECT SUM(amount) FROM awards WHERE status IN ('computed', 'approved', 'paid')")
    assert awarded > 0 and awarded % 10_000 == 0
    assert shown["奖励金额（已核算+已批准+已拨付）"] == f"{awarded // 10_000:,}万元"
    captions = " ".join(c.value for c in at.caption)
    assert "数据更新于 2026-11-01 01:00 北京时间" in captions


def test_enterprise_user_sees_only_its_own_ledger_figures(monkeypatch, sample_db_url):
    enterprise_id = sql(sample_db_url, "SELECT MIN(id) FROM enterprises")
    at = run_app(monkeypatch, sample_db_url, Actor("enterprise", "enterprise", enterprise_id))
    shown = metrics(at)
    assert shown["企业"] == "1"
    assert shown["产品"] == str(sql(sample_db_url, f"SELECT COUNT(*) FROM products WHERE enterprise_id = {enterprise_id}"))
    assert any("本企业" in h.value for h in at.subheader)


def test_without_sign_in_only_the_login_page_is_shown(monkeypatch, sample_db_url):
    at = run_app(monkeypatch, sample_db_url, None)
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert not at.metric


def test_sign_in_with_a_wrong_password_is_refused_and_a_right_one_shows_the_overview(monkeypatch, sample_db_url,
                                                                                     clock):
    at = run_app(monkeypatch, sample_db_url, None)
    at.text_input[0].input("evaluator")
    at.text_input[1].input("wrong-password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["用户名或密码错误"]
    clock.advance(1)  # the delay after one failure
    at.text_input[1].input("mtx-demo-evaluator")
    at.button[0].click().run()
    assert not at.exception
    assert metrics(at)["社区"] == "13"
