"""Awards in the database: recompute, balance, approve, pay, revoke, each audited; access by role."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tracker.access import AccessDenied, Actor
from tracker.ledger.awards import (
    AwardError, approve_awards, enterprise_balance, pay_award, recompute_awards, revoke_certificate)
from tracker.ledger.rules import load_rule_set
from tracker.models import Award, AuditEntry

from tests.ledger.conftest import ADMIN, EVALUATOR, EXAMPLES, add_certificate, add_enterprise

pytestmark = pytest.mark.postgres
AS_OF = dt.date(2026, 1, 15)


@pytest.fixture
def three_products(session):
    """Three first-version products (20 + 20 + 10 under the policy), a re-certification, a series certificate."""
    e = add_enterprise(session, 1)
    add_certificate(session, e, "C-1", "星辰 A1 开发板", "2025-01-10")
    add_certificate(session, e, "C-2", "星辰 M2 模组", "2025-02-10", product_type="模组")
    add_certificate(session, e, "C-3", "星辰 D3 设备", "2025-03-10", product_type="设备")
    add_certificate(session, e, "C-4", "星辰 A1 开发板", "2025-06-10", version="5.1.0")
    add_certificate(session, e, "C-5", "星辰 S5", "2025-07-10", product_type="设备", derived_from="C-3")
    session.commit()
    return e


def audit_actions(session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_recompute_allocates_and_a_second_run_changes_nothing(session, rules, three_products):
    summary = recompute_awards(session, ADMIN, rules)
    session.commit()
    assert (summary.created, summary.certificates, summary.awarded_total) == (5, 5, 500000)
    assert summary.by_reason == {"awarded": 2, "partial_ceiling": 1, "recertification": 1, "derived_certificate": 1}
    assert audit_actions(session).count("award.compute") == 5
    entries = session.scalar(select(func.count()).select_from(AuditEntry))

    again = recompute_awards(session, ADMIN, rules)
    session.commit()
    assert (again.created, again.changed, again.unchanged) == (0, 0, 5)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_balance_json_is_exactly_as_specified(session, rules, three_products):
    recompute_awards(session, ADMIN, rules)
    session.commit()
    balance = enterprise_balance(session, ADMIN, three_products.uscc, rules, as_of=AS_OF)
    assert list(balance) == ["enterprise", "uscc", "ceiling", "ceiling_unit", "scope", "awarded", "approved", "paid",
                             "to_recover", "remaining", "next_product_amount", "products"]
    assert {k: v for k, v in balance.items() if k != "products"} == {
        "enterprise": "示例001科技有限公司（虚构）", "uscc": three_products.uscc, "ceiling": 500000,
        "ceiling_unit": "yuan", "scope": "policy_period", "awarded": 500000, "approved": 0, "paid": 0,
        "to_recover": 0, "remaining": 0, "next_product_amount": 0}
    assert [(p["cert_no"], p["amount"], p["award_status"], p["cert_status"], p["reason_code"])
            for p in balance["products"]] == [
        ("C-1", 200000, "computed", "valid", "awarded"), ("C-2", 200000, "computed", "valid", "awarded"),
        ("C-3", 100000, "computed", "valid", "partial_ceiling"), ("C-4", 0, "computed", "valid", "recertification"),
        ("C-5", 0, "computed", "valid", "derived_certificate")]
    assert list(balance["products"][0]) == ["product_name", "cert_no", "amount", "award_status", "cert_status",
                                            "reason_code", "reason"]
    assert all(isinstance(balance[k], int) for k in ("ceiling", "awarded", "remaining", "next_product_amount"))
    assert "部分" in balance["products"][2]["reason"]


def test_balance_before_any_recompute_says_so(session, rules, three_products):
    balance = enterprise_balance(session, ADMIN, three_products.uscc, rules, as_of=AS_OF)
    assert balance["awarded"] == 0 and balance["next_product_amount"] == 200000
    assert {p["award_status"] for p in balance["products"]} == {"not_computed"}


def test_approve_pay_and_revoke_move_through_the_states_with_audit(session, rules, three_products):
    recompute_awards(session, ADMIN, rules)
    outcomes = approve_awards(session, ADMIN, rules, uscc=three_products.uscc)
    session.commit()
    assert [(o.cert_no, o.approved, o.amount) for o in outcomes] == [("C-1", True, 200000), ("C-2", True, 200000),
                                                                     ("C-3", True, 100000)]
    pay_award(session, ADMIN, "C-1")
    session.commit()
    with pytest.raises(AwardError, match="只有已批准"):
        pay_award(session, ADMIN, "C-1")
    with pytest.raises(AwardError):
        pay_award(session, ADMIN, "C-4")

    revoke_certificate(session, ADMIN, "C-1", "抽查发现证书信息不符（测试）", rules)  # paid -> to recover
    revoke_certificate(session, ADMIN, "C-2", "企业申请撤销（测试）", rules)          # approved -> released
    session.commit()
    balance = enterprise_balance(session, ADMIN, three_products.uscc, rules, as_of=AS_OF)
    by_no = {p["cert_no"]: p for p in balance["products"]}
    assert (by_no["C-1"]["award_status"], by_no["C-1"]["cert_status"]) == ("to_recover", "revoked")
    assert by_no["C-2"]["award_status"] == "released"
    assert by_no["C-4"]["reason_code"] == "recertification"  # the revoked C-1 stays the product's first certification
    assert (balance["awarded"], balance["approved"], balance["paid"], balance["to_recover"], balance["remaining"],
            balance["next_product_amount"]) == (100000, 100000, 0, 200000, 400000, 200000)
    with pytest.raises(AwardError, match="已于"):
        revoke_certificate(session, ADMIN, "C-1", "again", rules)

    pay = session.scalar(select(AuditEntry).where(AuditEntry.action == "award.pay"))
    assert (pay.actor, pay.entity_key, pay.before["status"], pay.after["status"]) == ("office", "C-1", "approved",
                                                                                     "paid")
    revoke = session.scalar(select(AuditEntry).where(AuditEntry.action == "certificate.revoke",
                                                     AuditEntry.entity_key == "C-1"))
    assert revoke.before["status"] == "valid" and revoke.after["revoked_reason"].startswith("抽查")
    assert {"award.approve", "award.pay", "award.revoke", "certificate.revoke"} <= set(audit_actions(session))


def test_released_headroom_goes_to_the_next_certificate(session, rules):
    e = add_enterprise(session, 2)
    for i in range(4):
        add_certificate(session, e, f"H-{i}", f"产品{i}", f"2025-0{i + 1}-01")
    recompute_awards(session, ADMIN, rules)
    revoke_certificate(session, ADMIN, "H-0", "测试", rules)
    session.commit()
    amounts = {p["cert_no"]: p["amount"] for p in enterprise_balance(session, ADMIN, e.uscc, rules)["products"]}
    assert amounts == {"H-0": 200000, "H-1": 200000, "H-2": 200000, "H-3": 100000}  # H-0 released


def test_a_certificate_imported_late_never_takes_a_paid_awards_place(session, rules):
    e = add_enterprise(session, 3)
    for i in range(3):
        add_certificate(session, e, f"P-{i}", f"产品{i}", f"2025-0{i + 3}-01")
    recompute_awards(session, ADMIN, rules)
    approve_awards(session, ADMIN, rules, uscc=e.uscc)
    for i in range(3):
        pay_award(session, ADMIN, f"P-{i}")
    add_certificate(session, e, "LATE", "更早的产品", "2025-01-01")  # passed earlier, imported later
    recompute_awards(session, ADMIN, rules)
    session.commit()
    by_no = {p["cert_no"]: p for p in enterprise_balance(session, ADMIN, e.uscc, rules)["products"]}
    assert (by_no["LATE"]["amount"], by_no["LATE"]["reason_code"]) == (0, "ceiling_reached")
    assert [by_no[f"P-{i}"]["amount"] for i in range(3)] == [200000, 200000, 100000]


def test_approving_a_single_certificate_and_refusals_are_recorded(session, rules, three_products):
    recompute_awards(session, ADMIN, rules)
    [ok] = approve_awards(session, ADMIN, rules, cert_no="C-2", attempt="a1")
    [refused] = approve_awards(session, ADMIN, rules, cert_no="C-4", attempt="a2")
    [again] = approve_awards(session, ADMIN, rules, cert_no="C-2", attempt="a3")
    session.commit()
    assert ok.approved and (refused.approved, refused.reason_code) == (False, "recertification")
    assert (again.approved, again.reason_code) == (False, "already_approved")
    attempts = [e.after["attempt"] for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action.in_(["award.approve", "award.approve_refused"]))
        .order_by(AuditEntry.id))]
    assert attempts == ["a1", "a2", "a3"]


def test_up_to_rule_sets_may_approve_less_and_the_rest_is_headroom(session):
    rules = load_rule_set(EXAMPLES / "up-to-amount.yaml")
    e = add_enterprise(session, 4)
    for i in range(4):
        add_certificate(session, e, f"U-{i}", f"设备{i}", f"2025-0{i + 1}-01", product_type="设备")
    recompute_awards(session, ADMIN, rules)
    [outcome] = approve_awards(session, ADMIN, rules, cert_no="U-0", amount=80000)
    assert outcome.approved and outcome.amount == 80000
    recompute_awards(session, ADMIN, rules)
    session.commit()
    amounts = [p["amount"] for p in enterprise_balance(session, ADMIN, e.uscc, rules)["products"]]
    assert amounts == [80000, 200000, 200000, 20000]
    with pytest.raises(AwardError, match="固定金额"):
        approve_awards(session, ADMIN, load_rule_set(EXAMPLES / "whole-only.yaml"), cert_no="U-1", amount=1)


def test_per_year_ceiling_balance_is_for_the_year_asked(session):
    rules = load_rule_set(EXAMPLES / "per-year-money-cap.yaml")
    e = add_enterprise(session, 5)
    for i in range(3):
        add_certificate(session, e, f"Y-{i}", f"产品{i}", f"2025-0{i + 1}-01")
    add_certificate(session, e, "Y-2026", "新产品", "2026-01-05")
    recompute_awards(session, ADMIN, rules)
    session.commit()
    b2025 = enterprise_balance(session, ADMIN, e.uscc, rules, as_of=dt.date(2025, 12, 1))
    b2026 = enterprise_balance(session, ADMIN, e.uscc, rules, as_of=dt.date(2026, 2, 1))
    assert (b2025["scope"], b2025["awarded"], b2025["remaining"], b2025["next_product_amount"]) == \
        ("calendar_year", 500000, 0, 0)
    assert (b2026["awarded"], b2026["remaining"], b2026["next_product_amount"]) == (200000, 300000, 200000)


def test_product_count_ceiling_balance_counts_products(session):
    rules = load_rule_set(EXAMPLES / "product-count-cap.yaml")
    e = add_enterprise(session, 6)
    for i in range(3):
        add_certificate(session, e, f"N-{i}", f"产品{i}", f"2025-0{i + 1}-01")
    recompute_awards(session, ADMIN, rules)
    session.commit()
    b = enterprise_balance(session, ADMIN, e.uscc, rules, as_of=AS_OF)
    assert (b["ceiling"], b["ceiling_unit"], b["awarded"], b["remaining"], b["next_product_amount"]) == \
        (5, "products", 600000, 2, 200000)


def test_a_non_chongqing_enterprise_earns_nothing(session, rules):
    e = add_enterprise(session, 8, registered=False)
    add_certificate(session, e, "X-1", "产品", "2025-03-01")
    recompute_awards(session, ADMIN, rules)
    session.commit()
    b = enterprise_balance(session, ADMIN, e.uscc, rules, as_of=AS_OF)
    assert b["products"][0]["reason_code"] == "not_registered_in_chongqing" and b["next_product_amount"] == 0


def test_who_may_do_what(session, rules, three_products):
    other = add_enterprise(session, 9)
    session.commit()
    own = Actor("ent-1", "enterprise", three_products.id)
    for actor in (EVALUATOR, own):
        for action in (lambda a: recompute_awards(session, a, rules),
                       lambda a: approve_awards(session, a, rules, uscc=three_products.uscc),
                       lambda a: pay_award(session, a, "C-1"),
                       lambda a: revoke_certificate(session, a, "C-1", "x")):
            with pytest.raises(AccessDenied):
                action(actor)
    assert enterprise_balance(session, own, three_products.uscc, rules)["uscc"] == three_products.uscc
    assert enterprise_balance(session, EVALUATOR, other.uscc, rules)["products"] == []
    with pytest.raises(AccessDenied):
        enterprise_balance(session, own, other.uscc, rules)
    with pytest.raises(AccessDenied):  # the same refusal for a code that does not exist
        enterprise_balance(session, own, "91350100M000100Y43", rules)
    assert session.scalar(select(func.count()).select_from(Award)) == 0
