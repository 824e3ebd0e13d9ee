"""我的奖励's pure parts: the balance sentence, the share of the ceiling used, first-time certification."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tracker.ledger.my_awards import _first_time, balance_sentence, ceiling_used_share


def balance(ceiling, awarded, remaining, next_amount, unit="yuan"):
    return {"ceiling": ceiling, "awarded": awarded, "remaining": remaining, "next_product_amount": next_amount,
            "ceiling_unit": unit}


@pytest.mark.parametrize("figures, sentence", [
    (balance(500_000, 400_000, 100_000, 100_000), "上限 50万元，已计入 40万元，剩余 10万元；再有一个首次认证产品可得 10万元"),
    (balance(500_000, 500_000, 0, 0), "上限 50万元，已计入 50万元，剩余 0 元；再有一个首次认证产品可得 0 元"),
    (balance(500_000, 0, 500_000, 200_000), "上限 50万元，已计入 0 元，剩余 50万元；再有一个首次认证产品可得 20万元"),
    (balance(500_000, 412_345, 87_655, 87_655),
     "上限 50万元，已计入 412,345 元，剩余 87,655 元；再有一个首次认证产品可得 87,655 元"),
    (balance(3, 400_000, 1, 200_000, "products"),
     "上限 3 个产品，已计入 2 个产品（40万元），剩余 1 个产品；再有一个首次认证产品可得 20万元"),
])
def test_the_balance_sentence(figures, sentence):
    assert balance_sentence(figures) == sentence


@pytest.mark.parametrize("figures, share", [
    (balance(500_000, 400_000, 100_000, 0), 0.8),
    (balance(500_000, 0, 500_000, 0), 0.0),
    (balance(500_000, 600_000, -100_000, 0), 1.0),  # over the ceiling (a stricter rule set): the bar is full
    (balance(3, 200_000, 2, 0, "products"), 1 / 3),
])
def test_the_share_of_the_ceiling_used(figures, share):
    assert ceiling_used_share(figures) == pytest.approx(share)


def test_first_time_is_the_products_earliest_certificate_and_never_a_series_one():
    def cert(no, day, derived=None):
        return SimpleNamespace(cert_no=no, pass_date=dt.date(2025, 1, day), derived_from_no=derived)

    a, b = SimpleNamespace(id=1), SimpleNamespace(id=2)
    pairs = [(cert("A-2", 9), a), (cert("A-1", 3), a), (cert("A-0", 3), a), (cert("B-1", 5, derived="A-0"), b)]
    out = _first_time(pairs)
    assert out["A-0"] == (True, "首次认证")  # same day as A-1: the number decides, as the allocator orders them
    assert out["A-1"] == (False, "复评（首次认证为 A-0，2025-01-03）")
    assert out["A-2"][0] is False
    assert out["B-1"] == (False, "系列/继承证书（继承自 A-0）")
