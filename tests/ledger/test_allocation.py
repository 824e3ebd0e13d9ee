"""Award rules as a table: one enterprise's certificates in, each certificate's amount, status and reason out."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.ledger.schema import Ceiling, DateWindow
from tracker.ledger.allocation import AwardState, allocate, next_product_amount
from tracker.ledger.rules import CertificateFacts


def cert(no, product=None, day="2025-03-01", **kw) -> CertificateFacts:
    values = dict(cert_no=no, product=product or no, product_type="开发板", first_version=True,
                  issuer="开放原子开源基金会", cert_type="OpenHarmony生态产品兼容性证书", os_version="5.0.2",
                  pass_date=dt.date.fromisoformat(day), status="valid", derived_from=None)
    values.update(kw)
    return CertificateFacts(**values)


def stored(amount, status, code="awarded"):
    return AwardState(amount, status, code, "")


CEILING_COUNT_5 = {"ceiling": Ceiling(amount=5, unit="products", scope="policy_period")}
PER_YEAR_MONEY = {"ceiling": Ceiling(amount=500000, unit="yuan", scope="calendar_year")}

CASES = [
    # (id, rule overrides, registered in Chongqing, certificates, stored awards, expected {cert: (amount, status, code)})
    ("three products, partial last award", {}, True,
     [cert("A", day="2025-01-10"), cert("B", day="2025-02-10"), cert("C", day="2025-03-10")], {},
     {"A": (200000, "computed", "awarded"), "B": (200000, "computed", "awarded"),
      "C": (100000, "computed", "partial_ceiling")}),
    ("three products, whole awards only", {"last_award": "whole_only"}, True,
     [cert("A", day="2025-01-10"), cert("B", day="2025-02-10"), cert("C", day="2025-03-10")], {},
     {"A": (200000, "computed", "awarded"), "B": (200000, "computed", "awarded"),
      "C": (0, "computed", "ceiling_whole_only")}),
    ("fourth product past the ceiling", {}, True,
     [cert(n, day=f"2025-0{i + 1}-01") for i, n in enumerate("ABCD")], {},
     {"C": (100000, "computed", "partial_ceiling"), "D": (0, "computed", "ceiling_reached")}),
    ("same day: certificate number decides", {}, True,
     [cert("X-3"), cert("X-1"), cert("X-2")], {},
     {"X-1": (200000, "computed", "awarded"), "X-2": (200000, "computed", "awarded"),
      "X-3": (100000, "computed", "partial_ceiling")}),
    ("re-certification of the same product on a newer version", {}, True,
     [cert("A", "board", day="2025-01-10"), cert("A2", "board", day="2025-06-10", os_version="5.1.0")], {},
     {"A": (200000, "computed", "awarded"), "A2": (0, "computed", "recertification")}),
    ("series certificate", {}, True,
     [cert("A", day="2025-01-10"), cert("S", day="2025-02-10", derived_from="A")], {},
     {"A": (200000, "computed", "awarded"), "S": (0, "computed", "derived_certificate")}),
    ("series certificates count when the rule set says so", {"exclude_derived": False}, True,
     [cert("S", derived_from="OTHER")], {}, {"S": (200000, "computed", "awarded")}),
    ("not a first version", {}, True, [cert("A", first_version=False)], {},
     {"A": (0, "computed", "not_first_version")}),
    ("revoked before any award", {}, True, [cert("A", status="revoked")], {},
     {"A": (0, "computed", "cert_revoked")}),
    ("revoked before payment: released, headroom goes to the next", {}, True,
     [cert("A", day="2025-01-10", status="revoked"), cert("B", day="2025-02-10"), cert("C", day="2025-03-10"),
      cert("D", day="2025-04-10")],
     {"A": stored(200000, "approved"), "B": stored(200000, "computed"), "C": stored(100000, "computed"),
      "D": stored(0, "computed", "ceiling_reached")},
     {"A": (200000, "released", "released_revoked"), "B": (200000, "computed", "awarded"),
      "C": (200000, "computed", "awarded"), "D": (100000, "computed", "partial_ceiling")}),
    ("revoked after payment: to recover", {}, True,
     [cert("A", day="2025-01-10", status="revoked"), cert("B", day="2025-02-10")],
     {"A": stored(200000, "paid")},
     {"A": (200000, "to_recover", "recover_revoked"), "B": (200000, "computed", "awarded")}),
    ("a revoked first certification still makes the next one a re-certification", {}, True,
     [cert("A", "board", day="2025-01-10", status="revoked"), cert("A2", "board", day="2025-05-10")],
     {"A": stored(200000, "paid")},
     {"A": (200000, "to_recover", "recover_revoked"), "A2": (0, "computed", "recertification")}),
    ("enterprise not registered in Chongqing", {}, False, [cert("A")], {},
     {"A": (0, "computed", "not_registered_in_chongqing")}),
    ("the gate can be switched off", {"gates": {"registered_in_chongqing": False}}, False, [cert("A")], {},
     {"A": (200000, "computed", "awarded")}),
    ("certificate type not accepted", {}, True, [cert("A", cert_type="HarmonyOS Connect认证证书")], {},
     {"A": (0, "computed", "cert_type_not_accepted")}),
    ("issuer not accepted", {}, True, [cert("A", issuer="某认证机构（虚构）")], {},
     {"A": (0, "computed", "issuer_not_accepted")}),
    ("product type not in the rule set", {"product_types": ["设备"]}, True, [cert("A", product_type="软件")], {},
     {"A": (0, "computed", "product_type_not_accepted")}),
    ("passed before the window", {}, True, [cert("A", day="2024-12-31")], {},
     {"A": (0, "computed", "outside_window")}),
    ("passed after the window", {}, True, [cert("A", day="2028-01-01")], {},
     {"A": (0, "computed", "outside_window")}),
    ("below the minimum version", {"min_os_version": "5.0.0"}, True,
     [cert("A", os_version="4.1"), cert("B", os_version="5.0.0")], {},
     {"A": (0, "computed", "below_min_version"), "B": (200000, "computed", "awarded")}),
    ("per-year scope: a new year, a new ceiling", PER_YEAR_MONEY, True,
     [cert("A", day="2025-01-10"), cert("B", day="2025-02-10"), cert("C", day="2025-03-10"),
      cert("D", day="2025-04-10"), cert("E", day="2026-01-10")], {},
     {"C": (100000, "computed", "partial_ceiling"), "D": (0, "computed", "ceiling_reached"),
      "E": (200000, "computed", "awarded")}),
    ("product-count ceiling", CEILING_COUNT_5, True,
     [cert(f"P{i}", day=f"2025-0{i + 1}-01") for i in range(7)], {},
     {"P4": (200000, "computed", "awarded"), "P5": (0, "computed", "ceiling_reached"),
      "P6": (0, "computed", "ceiling_reached")}),
    ("'up to' amounts say so", {"amount_mode": "up_to"}, True, [cert("A")], {},
     {"A": (200000, "computed", "awarded_up_to")}),
    ("a paid award keeps its place against a certificate imported late", {}, True,
     [cert("LATE", day="2025-01-01"), cert("B", day="2025-02-01"), cert("C", day="2025-03-01"),
      cert("D", day="2025-04-01")],
     {"B": stored(200000, "paid"), "C": stored(200000, "approved"), "D": stored(100000, "paid", "partial_ceiling")},
     {"LATE": (0, "computed", "ceiling_reached"), "B": (200000, "paid", "awarded"),
      "D": (100000, "paid", "partial_ceiling")}),
    ("an approved award on a product blocks an earlier certificate of it imported late", {}, True,
     [cert("EARLY", "board", day="2025-01-01"), cert("B", "board", day="2025-02-01")],
     {"B": stored(200000, "approved")},
     {"EARLY": (0, "computed", "product_already_awarded"), "B": (200000, "approved", "awarded")}),
    ("an approved award is frozen even when the rules change", {"amount_per_product": 100000}, True,
     [cert("A", day="2025-01-01"), cert("B", day="2025-02-01")], {"A": stored(200000, "approved")},
     {"A": (200000, "approved", "awarded"), "B": (100000, "computed", "awarded")}),
]


@pytest.mark.parametrize("overrides, registered, certs, before, expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_allocation(rules, overrides, registered, certs, before, expected):
    ruleset = rules.model_copy(update={k: (rules.gates.model_copy(update=v) if k == "gates" else v)
                                       for k, v in overrides.items()})
    result = allocate(ruleset, registered, certs, before)
    got = {no: (result[no].amount, result[no].status, result[no].reason_code) for no in expected}
    assert got == expected
    for state in result.values():
        assert state.reason or state.status in ("approved", "paid")  # every decision says why, in Chinese


def test_allocation_is_deterministic_whatever_the_input_order(rules):
    certs = [cert(f"C{i:02d}", day=f"2025-0{1 + i % 5}-01") for i in range(12)]
    first = allocate(rules, True, certs)
    assert allocate(rules, True, list(reversed(certs))) == first
    assert sum(s.amount for s in first.values()) == 500000


def test_reasons_name_the_rule_in_chinese(rules):
    result = allocate(rules, True, [cert("A", day="2025-01-01"), cert("B", day="2025-02-01"),
                                    cert("C", day="2025-03-01")])
    assert "部分" in result["C"].reason and "20 + 20 + 10 = 50" in result["C"].reason
    whole = rules.model_copy(update={"last_award": "whole_only"})
    result = allocate(whole, True, [cert("A", day="2025-01-01"), cert("B", day="2025-02-01"),
                                    cert("C", day="2025-03-01")])
    assert "整笔" in result["C"].reason and "20 + 20 = 40" in result["C"].reason


@pytest.mark.parametrize("overrides, used, registered, as_of, expected", [
    ({}, 0, True, "2026-01-01", 200000),
    ({}, 400000, True, "2026-01-01", 100000),
    ({"last_award": "whole_only"}, 400000, True, "2026-01-01", 0),
    ({}, 500000, True, "2026-01-01", 0),
    ({}, 0, False, "2026-01-01", 0),
    ({}, 0, True, "2028-06-01", 0),           # the policy period is over
    (CEILING_COUNT_5, 4, True, "2026-01-01", 200000),
    (CEILING_COUNT_5, 5, True, "2026-01-01", 0),
])
def test_next_product_amount(rules, overrides, used, registered, as_of, expected):
    ruleset = rules.model_copy(update=overrides)
    assert next_product_amount(ruleset, registered, used, dt.date.fromisoformat(as_of)) == expected
