"""Allocating one enterprise's awards under a rule set: a pure function over plain values.

Deterministic: certificates in order of pass date, then certificate number. Approved and paid awards are frozen and
counted first, so recomputation only hands out the headroom they leave: a certificate imported late never takes a
paid award's place. A revoked certificate releases an award not yet paid and marks a paid one to recover; it stays
the product's first certification, so a later re-certification of the product still earns nothing.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Hashable, Iterable

from tracker.ledger.schema import AwardRuleSet
from tracker.formatting import yuan
from tracker.ledger.rules import (
    CertificateFacts, bucket_label, ceiling_text, check_eligibility, effective_window, last_award_text, scope_bucket)
from tracker.vocab import COUNTING_AWARD_STATUSES, FROZEN_AWARD_STATUSES

FROZEN = FROZEN_AWARD_STATUSES  # recomputation leaves these as they are
COUNTING = COUNTING_AWARD_STATUSES  # count against the ceiling


@dataclass(frozen=True)
class AwardState:
    """An award as stored (or as decided): the amount in yuan, its status and why."""

    amount: int
    status: str  # one of tracker.vocab.AWARD_STATUSES
    reason_code: str
    reason: str

    @property
    def counts(self) -> bool:
        return self.status in COUNTING and self.amount > 0


def _sort_key(cert: CertificateFacts) -> tuple:
    return (cert.pass_date, cert.cert_no)


def revoked_state(previous: AwardState) -> AwardState:
    """What revoking a certificate does to its award."""
    if previous.status == "paid":
        return AwardState(previous.amount, "to_recover", "recover_revoked",
                          f"证书已撤销，已拨付的 {yuan(previous.amount)} 奖励待追回")
    if previous.status in ("computed", "approved") and previous.amount > 0:
        return AwardState(previous.amount, "released", "released_revoked",
                          f"证书已撤销，未拨付的 {yuan(previous.amount)} 奖励已释放，不再计入上限")
    if previous.status in ("computed",):
        return AwardState(0, "computed", "cert_revoked", "证书已撤销，不予奖励")
    return previous


def _uses(rules: AwardRuleSet, state: AwardState) -> int:
    """How much of the ceiling an award uses: yuan, or one product."""
    if not state.counts:
        return 0
    return state.amount if rules.ceiling.unit == "yuan" else 1


def allocate(rules: AwardRuleSet, registered_in_chongqing: bool, certificates: Iterable[CertificateFacts],
             stored: dict[str, AwardState] | None = None) -> dict[str, AwardState]:
    """Every certificate's award (cert_no -> state) for one enterprise."""
    stored = stored or {}
    certs = sorted(certificates, key=_sort_key)
    result: dict[str, AwardState] = {}
    used: dict[Hashable, int] = defaultdict(int)
    awarded_products: set[Hashable] = set()

    # frozen awards first: they keep their amount and hold their place
    for cert in certs:
        previous = stored.get(cert.cert_no)
        if previous is None or previous.status not in FROZEN:
            continue
        state = revoked_state(previous) if cert.status == "revoked" else previous
        result[cert.cert_no] = state
        if state.counts:
            bucket = scope_bucket(rules, cert.pass_date)
            if bucket is not None:
                used[bucket] += _uses(rules, state)
            awarded_products.add(cert.product)

    first_of_product: dict[Hashable, CertificateFacts] = {}
    for cert in certs:  # a product's first certification is its earliest certificate, even if later revoked
        first_of_product.setdefault(cert.product, cert)

    for cert in certs:
        if cert.cert_no in result:
            continue
        previous = stored.get(cert.cert_no)
        if cert.status == "revoked" and previous is not None and previous.counts:
            result[cert.cert_no] = revoked_state(previous)
            continue
        refusal = check_eligibility(rules, cert, registered_in_chongqing)
        if refusal is not None:
            result[cert.cert_no] = AwardState(0, "computed", refusal.code, refusal.reason)
            continue
        first = first_of_product.get(cert.product)
        if rules.first_time_only and first is not None and first.cert_no != cert.cert_no:
            result[cert.cert_no] = AwardState(0, "computed", "recertification",
                                              f"同一产品已于 {first.pass_date} 取得证书 {first.cert_no}，本证书为复评或"
                                              "新版本认证，每个产品只奖励首次认证一次")
            continue
        if rules.first_time_only and cert.product in awarded_products:
            result[cert.cert_no] = AwardState(0, "computed", "product_already_awarded",
                                              "该产品已有已批准或已拨付的奖励，每个产品只奖励一次")
            continue
        bucket = scope_bucket(rules, cert.pass_date)
        if bucket is None:  # only with a pass-date window wider than the policy period
            result[cert.cert_no] = AwardState(0, "computed", "outside_window",
                                              f"通过日期 {cert.pass_date} 不在政策期 "
                                              f"{rules.policy_period.start} 至 {rules.policy_period.end} 内")
            continue
        state = _award_under_ceiling(rules, used[bucket], bucket)
        if state.amount > 0:
            used[bucket] += _uses(rules, state)
            awarded_products.add(cert.product)
        result[cert.cert_no] = state
    return result


def _award_under_ceiling(rules: AwardRuleSet, used: int, bucket: Hashable) -> AwardState:
    per, cap = rules.amount_per_product, rules.ceiling.amount
    up_to = rules.amount_mode == "up_to"
    full_code, full_reason = (("awarded_up_to", f"首版次产品首次适配认证，奖励最高 {yuan(per)}（以核定金额为准）")
                              if up_to else ("awarded", f"首版次产品首次适配认证，奖励 {yuan(per)}"))
    where = bucket_label(bucket)
    if rules.ceiling.unit == "products":
        if used < cap:
            return AwardState(per, "computed", full_code, f"{full_reason}（{where}第 {used + 1} 个，上限 {cap} 个）")
        return AwardState(0, "computed", "ceiling_reached",
                          f"已达企业奖励上限（{ceiling_text(rules)}，{where}已奖励 {used} 个），不予奖励")
    remaining = cap - used
    if remaining >= per:
        return AwardState(per, "computed", full_code, full_reason)
    if remaining > 0 and rules.last_award == "partial":
        return AwardState(remaining, "computed", "partial_ceiling",
                          f"首版次产品首次适配认证；{ceiling_text(rules)}，剩余额度 {yuan(remaining)}，部分奖励 "
                          f"{yuan(remaining)}（规则：{last_award_text(rules)}）")
    if remaining > 0:
        return AwardState(0, "computed", "ceiling_whole_only",
                          f"剩余额度 {yuan(remaining)} 不足一笔 {yuan(per)}，按规则只发整笔，不予奖励"
                          f"（{last_award_text(rules)}）")
    return AwardState(0, "computed", "ceiling_reached", f"企业奖励已达上限（{ceiling_text(rules)}，{where}已奖励 "
                                                        f"{yuan(used)}），不予奖励")


def next_product_amount(rules: AwardRuleSet, registered_in_chongqing: bool, used: int,
                        as_of: dt.date | None = None) -> int:
    """What one more first-time certified first-version product would earn now, given the ceiling already used."""
    as_of = as_of or dt.date.today()
    if rules.gates.registered_in_chongqing and not registered_in_chongqing:
        return 0
    window = effective_window(rules)
    if (window.start and as_of < window.start) or (window.end and as_of > window.end):
        return 0
    if scope_bucket(rules, as_of) is None:
        return 0
    return _award_under_ceiling(rules, used, scope_bucket(rules, as_of)).amount
