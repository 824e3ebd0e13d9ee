"""我的奖励: one enterprise's awards as its own users see them: the balance, each certificate with why it earns what
it earns, and its statement (the file `mtx awards export --enterprise` writes).

The figures are `enterprise_balance`'s, so the page, `mtx certs balance` and the statement never disagree. An
enterprise user always gets its own enterprise: asking for another one is refused as `get_enterprise` refuses it
(the same answer whether or not the code exists).
"""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.bilingual import BilingualError
from tracker.access import Actor
from tracker.enterprises import get_enterprise
from tracker.formatting import beijing_today, yuan
from tracker.ledger.awards import _bucket_now, enterprise_balance
from tracker.ledger.export import export_statement
from tracker.ledger.rules import scope_bucket
from tracker.ledger.schema import AwardRuleSet
from tracker.models import Certificate, Enterprise, Product
from tracker.vocab import COUNTING_AWARD_STATUSES, NOT_COMPUTED


class NoEnterpriseChosen(BilingualError, ValueError):
    """An administrator or evaluator asked for 我的奖励 without naming an enterprise."""


def own_uscc(session: Session, actor: Actor, uscc: str | None = None) -> str:
    """The enterprise the actor's request is about: an enterprise user's own (another one is refused), else `uscc`."""
    if uscc is not None:
        return get_enterprise(session, actor, uscc).uscc  # refuses an enterprise user another enterprise's code
    if actor.role != "enterprise":
        raise NoEnterpriseChosen("请指定企业的统一社会信用代码", "name the enterprise (its USCC)")
    return session.get(Enterprise, actor.enterprise_id).uscc


def _first_time(certificates: list[tuple[Certificate, Product]]) -> dict[str, tuple[bool, str]]:
    """Per certificate number: is it its product's first certification (the allocator's order: pass date, then
    number), and if not, why not. A series / inherited certificate is never a first-time certification."""
    first_of_product: dict[int, Certificate] = {}
    out = {}
    for cert, product in sorted(certificates, key=lambda cp: (cp[0].pass_date, cp[0].cert_no)):
        first = first_of_product.setdefault(product.id, cert)
        if cert.derived_from_no:
            out[cert.cert_no] = (False, f"系列/继承证书（继承自 {cert.derived_from_no}）")
        elif first is not cert:
            out[cert.cert_no] = (False, f"复评（首次认证为 {first.cert_no}，{first.pass_date.isoformat()}）")
        else:
            out[cert.cert_no] = (True, "首次认证")
    return out


def my_awards(session: Session, actor: Actor, rules: AwardRuleSet, uscc: str | None = None, *,
              as_of: dt.date | None = None) -> dict:
    """The 我的奖励 page's data: `enterprise_balance`'s figures plus, per certificate, product type, version, pass
    date, whether it is a first-time certification, and the award with its reason.

    Certificate amounts are None (unavailable) while no award has been computed for them, never 0.
    """
    code = own_uscc(session, actor, uscc)
    as_of = as_of or beijing_today()
    bucket = _bucket_now(rules, as_of)  # the ceiling the balance is about (per-year ceilings: as_of's year)
    balance = enterprise_balance(session, actor, code, rules, as_of=as_of)
    enterprise = get_enterprise(session, actor, code)
    pairs = list(session.execute(select(Certificate, Product).join(Product, Certificate.product_id == Product.id)
                                 .where(Product.enterprise_id == enterprise.id)))
    details = {cert.cert_no: (cert, product) for cert, product in pairs}
    first_time = _first_time(pairs)
    certificates = []
    for row in balance["products"]:
        cert, product = details[row["cert_no"]]
        computed = row["award_status"] != NOT_COMPUTED
        first, first_note = first_time[cert.cert_no]
        certificates.append({
            "product_name": product.name, "product_type": product.product_type, "cert_no": cert.cert_no,
            "os_version": cert.os_version, "pass_date": cert.pass_date, "cert_status": cert.status,
            "first_time": first, "first_time_note": first_note,
            "amount": row["amount"] if computed else None, "award_status": row["award_status"],
            "counts": (computed and row["award_status"] in COUNTING_AWARD_STATUSES and row["amount"] > 0
                       and scope_bucket(rules, cert.pass_date) == bucket),
            "reason_code": row["reason_code"], "reason": row["reason"]})
    figures = {k: v for k, v in balance.items() if k != "products"}
    computed_only = balance["awarded"] - balance["approved"] - balance["paid"]  # counting, not yet approved
    return figures | {"computed": computed_only, "rule_set_version": rules.version, "certificates": certificates}


def balance_sentence(balance: dict) -> str:
    """The balance in one sentence: 上限 50万元，已计入 40万元，剩余 10万元；再有一个首次认证产品可得 10万元."""
    if balance["ceiling_unit"] == "yuan":
        ceiling, used, remaining = (yuan(balance["ceiling"]), yuan(balance["awarded"]), yuan(balance["remaining"]))
    else:  # the ceiling counts products; what they were awarded stays in yuan
        used_products = balance["ceiling"] - balance["remaining"]
        ceiling, remaining = f"{balance['ceiling']:,} 个产品", f"{balance['remaining']:,} 个产品"
        used = f"{used_products:,} 个产品（{yuan(balance['awarded'])}）"
    return (f"上限 {ceiling}，已计入 {used}，剩余 {remaining}；"
            f"再有一个首次认证产品可得 {yuan(balance['next_product_amount'])}")


def ceiling_used_share(balance: dict) -> float:
    """How much of the ceiling is used, 0 to 1 (for a progress bar)."""
    if balance["ceiling"] <= 0:
        return 1.0
    used = balance["ceiling"] - balance["remaining"]
    return min(1.0, max(0.0, used / balance["ceiling"]))


def statement_bytes(session: Session, actor: Actor, rules: AwardRuleSet, uscc: str | None = None, *,
                    as_of: dt.date | None = None) -> bytes:
    """The enterprise's 对账单 (XLSX) as bytes: the file `mtx awards export FILE --enterprise USCC` writes."""
    code = own_uscc(session, actor, uscc)
    with tempfile.TemporaryDirectory(prefix="mtx-statement-") as folder:
        path = Path(folder) / "statement.xlsx"
        export_statement(session, actor, rules, code, path, as_of=as_of)
        return path.read_bytes()
