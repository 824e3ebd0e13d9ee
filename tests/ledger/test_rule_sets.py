"""The shipped rule set and the example variants: each loads, passes the checks, and behaves as its comment says."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.yamlsource import ConfigError
from tracker.ledger.allocation import allocate
from tracker.ledger.rules import load_rule_set

from tests.ledger.conftest import EXAMPLES, RULES_FILE
from tests.ledger.test_allocation import cert

FOUR_PRODUCTS = [cert(n, day=f"2025-0{i + 1}-01") for i, n in enumerate("ABCD")]


def amounts(rules, certs, registered=True):
    result = allocate(rules, registered, certs)
    return [result[c.cert_no].amount for c in certs]


def test_the_policy_rule_set():
    rules = load_rule_set(RULES_FILE)
    assert (rules.amount_per_product, rules.ceiling.amount, rules.ceiling.unit, rules.ceiling.scope) == \
        (200000, 500000, "yuan", "policy_period")
    assert (rules.policy_period.start, rules.policy_period.end) == (dt.date(2025, 1, 1), dt.date(2027, 12, 31))
    assert amounts(rules, FOUR_PRODUCTS) == [200000, 200000, 100000, 0]


def test_every_example_loads():
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) >= 5
    versions = {load_rule_set(f).version for f in files}
    assert len(versions) == len(files)  # each has its own version, recorded on every award


def test_whole_only_example():
    assert amounts(load_rule_set(EXAMPLES / "whole-only.yaml"), FOUR_PRODUCTS) == [200000, 200000, 0, 0]


def test_product_count_example():
    rules = load_rule_set(EXAMPLES / "product-count-cap.yaml")
    certs = [cert(f"P{i}", day=f"2025-0{i + 1}-01") for i in range(7)]
    assert amounts(rules, certs) == [200000] * 5 + [0, 0]


def test_per_year_product_count_example():
    rules = load_rule_set(EXAMPLES / "per-year-product-cap.yaml")
    certs = [cert(f"Y25-{i}", day=f"2025-{i + 1:02d}-01") for i in range(8)] + [cert("Y26-0", day="2026-01-05")]
    assert amounts(rules, certs) == [100000] * 6 + [0, 0, 100000]


def test_per_year_money_example():
    rules = load_rule_set(EXAMPLES / "per-year-money-cap.yaml")
    certs = FOUR_PRODUCTS + [cert("E", day="2026-02-01"), cert("F", day="2026-03-01")]
    assert amounts(rules, certs) == [200000, 200000, 100000, 0, 200000, 200000]


def test_up_to_example():
    rules = load_rule_set(EXAMPLES / "up-to-amount.yaml")
    certs = [cert("DEV", product_type="设备"), cert("BOARD", product_type="开发板", day="2025-03-02"),
             cert("OLD", product_type="设备", os_version="3.2", day="2025-03-03")]
    result = allocate(rules, True, certs)
    assert [(result[c.cert_no].amount, result[c.cert_no].reason_code) for c in certs] == [
        (200000, "awarded_up_to"), (0, "product_type_not_accepted"), (0, "below_min_version")]
    assert "最高" in result["DEV"].reason


def test_a_contradictory_rule_set_is_refused_with_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text((EXAMPLES / "whole-only.yaml").read_text(encoding="utf-8")
                    .replace("amount_per_product: 200000", "amount_per_product: 600000"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_rule_set(path)
    problem = info.value.problems[0]
    assert problem.key == "amount_per_product" and problem.line and "no award can ever be made" in problem.message
