"""Award rule sets: loading one from YAML (with file:line problems), and the pure tests a certificate must pass.

The shape lives in tracker.ledger.schema.AwardRuleSet; every number, list and switch comes from the rule set, never from code.
`check_eligibility` answers for one certificate in isolation; the ceiling and first-time rules need the enterprise's
other certificates and live in tracker.ledger.allocation.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Hashable

from tracker.ledger.schema import AwardRuleSet, check_award_rules
from tracker.ledger.columns import name_key
from tracker.ledger.versions import version_key
from tracker.formatting import yuan
from tracker.yamlsource import ConfigError, Problem, read_yaml, validate_source


def load_rule_set(path: str | Path) -> AwardRuleSet:
    """Load and check one rule-set file (config/awards.yaml or a variant); ConfigError lists every problem."""
    path = Path(path)
    problems: list[Problem] = []
    source = read_yaml(path.parent, path.name, problems, required=True)
    rules = validate_source(source, AwardRuleSet, problems) if source else None
    if rules is not None:
        check_award_rules(rules, source, problems)
    if rules is None or any(p.severity == "error" for p in problems):
        raise ConfigError(problems)
    return rules


def rules_from_config(config_dir: str | Path) -> AwardRuleSet:
    return load_rule_set(Path(config_dir) / "awards.yaml")


def ceiling_text(rules: AwardRuleSet) -> str:
    c = rules.ceiling
    limit = yuan(c.amount) if c.unit == "yuan" else f"{c.amount} 个产品"
    scope = {"policy_period": f"政策期（{window_text(rules.policy_period)}）", "calendar_year": "每自然年",
             "lifetime": "累计"}[c.scope]
    return f"每家企业{scope}最多 {limit}".replace("  ", " ")


def window_text(window) -> str:
    start = window.start.isoformat() if window.start else "不限"
    end = window.end.isoformat() if window.end else "不限"
    return f"{start} 至 {end}"


def last_award_text(rules: AwardRuleSet) -> str:
    if rules.ceiling.unit != "yuan":
        return "上限按产品个数计，每个产品整笔奖励"
    per, cap = rules.amount_per_product, rules.ceiling.amount
    whole = (cap // per) * per
    if rules.last_award == "partial":
        rest = cap - whole
        parts = " + ".join([f"{per // 10000:g}"] * (cap // per) + ([f"{rest / 10000:g}"] if rest else []))
        return f"末笔按剩余额度部分发放（{parts} = {cap / 10000:g}万元）"
    parts = " + ".join([f"{per // 10000:g}"] * (cap // per)) or "0"
    return f"只发整笔，剩余额度不足一笔不发（{parts} = {whole / 10000:g}万元）"


def effective_window(rules: AwardRuleSet):
    """The pass-date window; when the rule set gives none, the policy period."""
    w = rules.pass_date_window
    return w if (w.start or w.end) else rules.policy_period


def scope_bucket(rules: AwardRuleSet, pass_date: dt.date) -> Hashable | None:
    """Which ceiling a certificate's award counts against; None when it counts against none (outside the period)."""
    scope = rules.ceiling.scope
    if scope == "lifetime":
        return "lifetime"
    if scope == "calendar_year":
        return pass_date.year
    p = rules.policy_period
    if (p.start and pass_date < p.start) or (p.end and pass_date > p.end):
        return None
    return "policy_period"


def bucket_label(bucket: Hashable | None) -> str:
    return {"lifetime": "累计", "policy_period": "政策期"}.get(bucket, f"{bucket} 年") if bucket else "—"


@dataclass(frozen=True)
class CertificateFacts:
    """What the rules look at for one certificate (plain values, no database)."""

    cert_no: str
    product: Hashable  # the product's identity (its id)
    product_type: str
    first_version: bool
    issuer: str
    cert_type: str
    os_version: str | None
    pass_date: dt.date
    status: str = "valid"  # valid | revoked
    derived_from: str | None = None


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str


def check_eligibility(rules: AwardRuleSet, cert: CertificateFacts, registered_in_chongqing: bool) -> Refusal | None:
    """The first rule the certificate fails on its own, or None. First-time and ceiling rules are the allocator's."""
    if cert.status == "revoked":
        return Refusal("cert_revoked", "证书已撤销，不予奖励")
    if rules.accepted_issuers and name_key(cert.issuer) not in {name_key(i) for i in rules.accepted_issuers}:
        return Refusal("issuer_not_accepted", f"颁发机构「{cert.issuer}」不在认可范围（认可："
                                              f"{'、'.join(rules.accepted_issuers)}）")
    if rules.accepted_cert_types and name_key(cert.cert_type) not in {name_key(t) for t in rules.accepted_cert_types}:
        return Refusal("cert_type_not_accepted", f"证书类型「{cert.cert_type}」不在认可范围（认可："
                                                 f"{'、'.join(rules.accepted_cert_types)}）")
    if rules.product_types and cert.product_type not in rules.product_types:
        return Refusal("product_type_not_accepted", f"产品类型「{cert.product_type}」不在奖励范围（范围："
                                                    f"{'、'.join(rules.product_types)}）")
    window = effective_window(rules)
    if (window.start and cert.pass_date < window.start) or (window.end and cert.pass_date > window.end):
        return Refusal("outside_window", f"通过日期 {cert.pass_date} 不在奖励期 {window_text(window)} 内")
    if rules.min_os_version:
        if not cert.os_version:
            return Refusal("version_unknown", f"系统版本未知，无法确认不低于 {rules.min_os_version}")
        if version_key(cert.os_version) < version_key(rules.min_os_version):
            return Refusal("below_min_version", f"系统版本 {cert.os_version} 低于要求的 {rules.min_os_version}")
    if rules.gates.registered_in_chongqing and not registered_in_chongqing:
        return Refusal("not_registered_in_chongqing", "企业注册地不在重庆，不符合申报条件")
    if rules.require_first_version and not cert.first_version:
        return Refusal("not_first_version", "产品不是首版次软件，不予奖励")
    if rules.exclude_derived and cert.derived_from:
        return Refusal("derived_certificate", f"系列/继承证书（继承自 {cert.derived_from}），不属于首次适配认证，不予奖励")
    return None
