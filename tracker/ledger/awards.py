"""Awards in the database: recompute, balance, approve, pay, revoke. Every change is audited with before and after.

Changes to one enterprise's awards are serialised in the database: `SELECT … FOR UPDATE` on the enterprise row on
PostgreSQL, the database write lock (`BEGIN IMMEDIATE`) on SQLite. Approval re-allocates the enterprise under that
lock and checks the ceiling again before it approves, so the ceiling holds whatever runs at the same time.
Refused approvals are not exceptions: they are recorded in the audit log and returned, so the caller's commit keeps
the record of every attempt.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.bilingual import BilingualError
from tracker import audit
from tracker.access import Actor, require_enterprise, require_role
from tracker.ledger.schema import AwardRuleSet
from tracker.enterprises import NotFound, get_enterprise
from tracker.ledger.auditing import record_created
from tracker.ledger.identifiers import normalise_code
from tracker.formatting import beijing_today, date_text, yuan
from tracker.ledger.allocation import COUNTING, AwardState, allocate, next_product_amount, revoked_state
from tracker.ledger.rules import CertificateFacts, scope_bucket
from tracker.models import Award, Certificate, Enterprise, Product, utcnow
from tracker.vocab import AWARD_STATUSES, DECIDED_AWARD_STATUSES, FROZEN_AWARD_STATUSES, NOT_COMPUTED


class AwardError(BilingualError, ValueError):
    """An award action that cannot be done as asked; `zh` and `en` say why and what to do."""


# --- locking ----------------------------------------------------------------------------------------------------------


def lock_enterprises(session: Session, enterprise_ids: Iterable[int] | None = None) -> None:
    """Serialise award changes: row locks on PostgreSQL (in id order, no deadlocks), the write lock on SQLite.

    On SQLite the lock is taken with BEGIN IMMEDIATE before anything is read; a session that has already written holds
    the write lock and is left as it is.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if not driver.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    stmt = select(Enterprise.id).order_by(Enterprise.id).with_for_update()
    if enterprise_ids is not None:
        ids = sorted(set(enterprise_ids))
        if not ids:
            return
        stmt = stmt.where(Enterprise.id.in_(ids))
    session.execute(stmt).all()


# --- loading facts ----------------------------------------------------------------------------------------------------


def _facts(cert: Certificate, product: Product) -> CertificateFacts:
    return CertificateFacts(cert_no=cert.cert_no, product=product.id, product_type=product.product_type,
                            first_version=product.first_version, issuer=cert.issuer, cert_type=cert.programme,
                            os_version=cert.os_version, pass_date=cert.pass_date, status=cert.status,
                            derived_from=cert.derived_from_no)


def _state(award: Award) -> AwardState:
    return AwardState(award.amount, award.status, award.reason_code or "", award.reason or "")


@dataclass
class _EnterpriseLedger:
    enterprise: Enterprise
    certificates: list[tuple[Certificate, Product]] = field(default_factory=list)
    awards: dict[int, Award] = field(default_factory=dict)  # certificate id -> award


def _load(session: Session, enterprise_ids: list[int] | None) -> dict[int, _EnterpriseLedger]:
    fresh = {"populate_existing": True}
    stmt = select(Enterprise).order_by(Enterprise.id)
    if enterprise_ids is not None:
        stmt = stmt.where(Enterprise.id.in_(enterprise_ids))
    ledgers = {e.id: _EnterpriseLedger(e) for e in session.scalars(stmt.execution_options(**fresh))}
    cstmt = (select(Certificate, Product).join(Product, Certificate.product_id == Product.id)
             .order_by(Certificate.pass_date, Certificate.cert_no))
    astmt = select(Award)
    if enterprise_ids is not None:
        cstmt = cstmt.where(Product.enterprise_id.in_(enterprise_ids))
        astmt = astmt.where(Award.enterprise_id.in_(enterprise_ids))
    for cert, product in session.execute(cstmt.execution_options(**fresh)):
        ledgers[product.enterprise_id].certificates.append((cert, product))
    for award in session.scalars(astmt.execution_options(**fresh)):
        ledgers[award.enterprise_id].awards[award.certificate_id] = award
    return ledgers


# --- recompute --------------------------------------------------------------------------------------------------------


@dataclass
class RecomputeSummary:
    rule_set_version: str
    enterprises: int = 0
    certificates: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    frozen: int = 0
    awarded_total: int = 0  # yuan counting against ceilings after the run
    by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _recompute_ledger(session: Session, actor: Actor, rules: AwardRuleSet, ledger: _EnterpriseLedger,
                      summary: RecomputeSummary, now: dt.datetime,
                      pending: list[tuple[str, Award]] | None = None) -> None:
    """Re-allocate one enterprise; new awards go to `pending` (written by the caller in one go) or are written now."""
    enterprise = ledger.enterprise
    facts = [_facts(c, p) for c, p in ledger.certificates]
    by_no = {c.cert_no: (c, p) for c, p in ledger.certificates}
    stored = {c.cert_no: _state(ledger.awards[c.id]) for c, _ in ledger.certificates if c.id in ledger.awards}
    decided = allocate(rules, enterprise.registered_in_chongqing, facts, stored)
    new_awards: list[tuple[str, Award]] = []
    for cert_no, state in decided.items():
        cert, product = by_no[cert_no]
        award = ledger.awards.get(cert.id)
        summary.certificates += 1
        summary.by_reason[state.reason_code] = summary.by_reason.get(state.reason_code, 0) + 1
        if state.counts:
            summary.awarded_total += state.amount
        if award is None:
            award = Award(enterprise_id=enterprise.id, product_id=product.id, certificate_id=cert.id,
                          amount=state.amount, status=state.status, reason_code=state.reason_code,
                          reason=state.reason, rule_set_version=rules.version, computed_at=now)
            new_awards.append((cert_no, award))
            ledger.awards[cert.id] = award
            summary.created += 1
            continue
        if _state(award) == state:
            if award.status in FROZEN_AWARD_STATUSES:
                summary.frozen += 1
            else:
                summary.unchanged += 1
            continue
        before = audit.row_dict(award)
        award.amount, award.status, award.reason_code, award.reason = (state.amount, state.status,
                                                                       state.reason_code, state.reason)
        if before["status"] == "computed":
            award.rule_set_version, award.computed_at = rules.version, now
        summary.changed += 1
        audit.record(session, actor, "award.recompute", "award", cert_no, before, audit.row_dict(award))
    if pending is not None:
        pending.extend(new_awards)
    else:
        _write_new_awards(session, actor, new_awards)


def _write_new_awards(session: Session, actor: Actor, new_awards: list[tuple[str, Award]]) -> None:
    if new_awards:
        session.add_all([a for _, a in new_awards])
        session.flush()
        record_created(session, actor, "award.compute", "award", new_awards)


def recompute_awards(session: Session, actor: Actor, rules: AwardRuleSet, *,
                     uscc: str | None = None) -> RecomputeSummary:
    """Allocate every certificate's award under `rules` (one enterprise with `uscc`), writing only what changed.

    Approved, paid, to-recover and released awards are frozen. Running it twice changes nothing the second time.
    Administrators only; the caller commits.
    """
    require_role(actor, "admin", action="recompute awards")
    ids = None
    if uscc is not None:
        ids = [get_enterprise(session, actor, uscc).id]
    lock_enterprises(session, ids)
    summary = RecomputeSummary(rules.version)
    now = utcnow()
    ledgers = _load(session, ids)
    pending: list[tuple[str, Award]] = []
    for ledger in ledgers.values():
        summary.enterprises += 1
        _recompute_ledger(session, actor, rules, ledger, summary, now, pending)
    _write_new_awards(session, actor, pending)
    session.flush()
    return summary


# --- balance ----------------------------------------------------------------------------------------------------------


def _bucket_now(rules: AwardRuleSet, as_of: dt.date):
    if rules.ceiling.scope == "calendar_year":
        return as_of.year
    return scope_bucket(rules, as_of) or rules.ceiling.scope


def enterprise_balance(session: Session, actor: Actor, uscc: str, rules: AwardRuleSet, *,
                       as_of: dt.date | None = None) -> dict:
    """An enterprise's balance under `rules`, as `mtx certs balance --json` prints it. Amounts in yuan (integers).

    awarded = computed + approved + paid (not released, not to recover) within the ceiling's scope; for a per-year
    ceiling the scope is the calendar year of `as_of`, a Beijing date (default today in Beijing). With a product-count ceiling, `ceiling` and
    `remaining` count products; the money fields stay in yuan.
    """
    enterprise = get_enterprise(session, actor, uscc)
    as_of = as_of or beijing_today()
    ledger = _load(session, [enterprise.id])[enterprise.id]
    bucket = _bucket_now(rules, as_of)
    totals = defaultdict(int)
    products_used = 0
    rows = []
    for cert, product in ledger.certificates:
        award = ledger.awards.get(cert.id)
        in_scope = scope_bucket(rules, cert.pass_date) == bucket
        if award is not None and in_scope and award.amount > 0:
            totals[award.status] += award.amount
            if award.status in COUNTING:
                products_used += 1
        rows.append({"product_name": product.name, "cert_no": cert.cert_no,
                     "amount": int(award.amount) if award else 0,
                     "award_status": award.status if award else NOT_COMPUTED,
                     "cert_status": cert.status,
                     "reason_code": (award.reason_code if award else NOT_COMPUTED),
                     "reason": (award.reason if award else "尚未核算奖励，请管理员运行 mtx awards recompute")})
    awarded = sum(totals[s] for s in COUNTING)
    used = awarded if rules.ceiling.unit == "yuan" else products_used
    return {
        "enterprise": enterprise.name,
        "uscc": enterprise.uscc,
        "ceiling": rules.ceiling.amount,
        "ceiling_unit": rules.ceiling.unit,
        "scope": rules.ceiling.scope,
        "awarded": awarded,
        "approved": totals["approved"],
        "paid": totals["paid"],
        "to_recover": totals["to_recover"],
        "remaining": rules.ceiling.amount - used,
        "next_product_amount": next_product_amount(rules, enterprise.registered_in_chongqing, used, as_of),
        "products": rows,
    }


# --- approve ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalOutcome:
    uscc: str
    cert_no: str | None
    approved: bool
    amount: int
    reason_code: str
    message: str


def _ceiling_used(rules: AwardRuleSet, ledger: _EnterpriseLedger, bucket, statuses: tuple[str, ...]) -> int:
    used = 0
    for cert, _ in ledger.certificates:
        award = ledger.awards.get(cert.id)
        if award and award.status in statuses and award.amount > 0 and scope_bucket(rules, cert.pass_date) == bucket:
            used += award.amount if rules.ceiling.unit == "yuan" else 1
    return used


def approve_awards(session: Session, actor: Actor, rules: AwardRuleSet, *, uscc: str | None = None,
                   cert_no: str | None = None, all_enterprises: bool = False, amount: int | None = None,
                   attempt: str | None = None) -> list[ApprovalOutcome]:
    """Approve computed awards: one certificate's, one enterprise's, or every enterprise's.

    Under the enterprise lock the enterprise is re-allocated first, then each award is approved only if the approved
    and paid awards stay within the ceiling. Every attempt, approved or refused, is written to the audit log with the
    attempt id. `amount` lowers one certificate's award under an "up to" rule set.
    """
    require_role(actor, "admin", action="approve awards")
    if sum(x is not None and x is not False for x in (uscc, cert_no, all_enterprises or None)) != 1:
        raise AwardError("指定一个企业代码、一个证书编号或 --all 之一", "give exactly one of USCC, --cert or --all")
    if amount is not None:
        if cert_no is None:
            raise AwardError("--amount 只能与 --cert 一起使用", "--amount needs --cert")
        if rules.amount_mode != "up_to":
            raise AwardError(f"规则 {rules.version} 为固定金额，不能改金额",
                             f"rule set {rules.version} pays a fixed amount; --amount is for 'up to' rule sets")
        if amount <= 0:
            raise AwardError("--amount 须大于 0", "--amount must be positive")
    attempt = attempt or uuid.uuid4().hex
    target_cert: Certificate | None = None
    if cert_no is not None:
        target_cert = session.scalar(select(Certificate).where(Certificate.cert_no == normalise_code(cert_no)))
        if target_cert is None:
            raise NotFound(f"没有证书 {cert_no} / no certificate {cert_no}")
        ids = [session.get(Product, target_cert.product_id).enterprise_id]
    elif uscc is not None:
        ids = [get_enterprise(session, actor, uscc).id]
    else:
        ids = None
    lock_enterprises(session, ids)
    now = utcnow()
    outcomes: list[ApprovalOutcome] = []
    summary = RecomputeSummary(rules.version)
    for ledger in _load(session, ids).values():
        _recompute_ledger(session, actor, rules, ledger, summary, now)
        session.flush()
        enterprise = ledger.enterprise
        if target_cert is not None:
            targets = [(c, p) for c, p in ledger.certificates if c.id == target_cert.id]
        else:
            targets = [(c, p) for c, p in ledger.certificates
                       if (a := ledger.awards.get(c.id)) and a.status == "computed" and a.amount > 0]
        if not targets:
            if all_enterprises:
                continue
            outcomes.append(_refuse(session, actor, enterprise, None, attempt, "nothing_to_approve",
                                    "没有待批准的奖励 / no computed award to approve"))
            continue
        for cert, _product in targets:
            award = ledger.awards[cert.id]
            if award.status != "computed" or award.amount <= 0:
                code = award.reason_code if award.status == "computed" else f"already_{award.status}"
                outcomes.append(_refuse(session, actor, enterprise, cert.cert_no, attempt, code or "not_awarded",
                                        f"证书 {cert.cert_no} 不可批准：{_status_text(award)} / nothing to approve "
                                        f"({award.status}, {award.amount} yuan)"))
                continue
            bucket = scope_bucket(rules, cert.pass_date)
            frozen = _ceiling_used(rules, ledger, bucket, DECIDED_AWARD_STATUSES)
            new_amount = amount if amount is not None else award.amount
            if amount is not None and amount > award.amount:
                outcomes.append(_refuse(session, actor, enterprise, cert.cert_no, attempt, "amount_above_computed",
                                        f"金额 {yuan(amount)} 超过核算的最高额 {yuan(award.amount)} / the amount "
                                        "exceeds the computed award"))
                continue
            use = new_amount if rules.ceiling.unit == "yuan" else 1
            if frozen + use > rules.ceiling.amount:
                outcomes.append(_refuse(session, actor, enterprise, cert.cert_no, attempt, "ceiling_reached",
                                        f"批准后将超过企业上限（{'及'.join(map(AWARD_STATUSES.zh, DECIDED_AWARD_STATUSES))} "
                                        f"{frozen}，上限 {rules.ceiling.amount}） / approving would exceed the ceiling"))
                continue
            before = audit.row_dict(award)
            award.status, award.amount, award.decided_by, award.decided_at = "approved", new_amount, actor.name, now
            session.flush()
            audit.record(session, actor, "award.approve", "award", cert.cert_no, before,
                         audit.row_dict(award) | {"attempt": attempt})
            outcomes.append(ApprovalOutcome(enterprise.uscc, cert.cert_no, True, new_amount, award.reason_code or "",
                                            f"已批准 {cert.cert_no}：{yuan(new_amount)} / approved"))
        _assert_ceiling(rules, ledger)
    session.flush()
    return outcomes


def _status_text(award: Award) -> str:
    if award.status == "computed":
        return award.reason or "金额为 0"
    return AWARD_STATUSES.zh(award.status)


def _refuse(session: Session, actor: Actor, enterprise: Enterprise, cert_no: str | None, attempt: str, code: str,
            message: str) -> ApprovalOutcome:
    audit.record(session, actor, "award.approve_refused", "award" if cert_no else "enterprise",
                 cert_no or enterprise.uscc, None,
                 {"attempt": attempt, "uscc": enterprise.uscc, "cert_no": cert_no, "reason_code": code,
                  "message": message})
    return ApprovalOutcome(enterprise.uscc, cert_no, False, 0, code, message)


def _assert_ceiling(rules: AwardRuleSet, ledger: _EnterpriseLedger) -> None:
    """Defence in depth: approved and paid awards never exceed the ceiling in any scope."""
    used: dict = defaultdict(int)
    for cert, _ in ledger.certificates:
        award = ledger.awards.get(cert.id)
        if award and award.status in DECIDED_AWARD_STATUSES and award.amount > 0:
            used[scope_bucket(rules, cert.pass_date)] += award.amount if rules.ceiling.unit == "yuan" else 1
    for bucket, total in used.items():
        if bucket is not None and total > rules.ceiling.amount:
            raise AwardError(f"企业 {ledger.enterprise.uscc} 已批准金额 {total} 超过上限 {rules.ceiling.amount}，操作已撤回",
                             "approved awards would exceed the ceiling; nothing was changed")


# --- pay and revoke ---------------------------------------------------------------------------------------------------


def _certificate_for_change(session: Session, cert_no: str) -> tuple[Certificate, Product]:
    cert = session.scalar(select(Certificate).where(Certificate.cert_no == normalise_code(cert_no)))
    if cert is None:
        raise NotFound(f"没有证书 {cert_no} / no certificate {cert_no}")
    product = session.get(Product, cert.product_id)
    lock_enterprises(session, [product.enterprise_id])
    session.refresh(cert)
    return cert, product


def pay_award(session: Session, actor: Actor, cert_no: str, *, paid_at: dt.datetime | None = None) -> dict:
    """Mark an approved award paid. Administrators only."""
    require_role(actor, "admin", action="record payments")
    cert, _ = _certificate_for_change(session, cert_no)
    award = session.scalar(select(Award).where(Award.certificate_id == cert.id)
                           .execution_options(populate_existing=True))
    if award is None or award.status != "approved":
        state = award.status if award else NOT_COMPUTED
        raise AwardError(f"证书 {cert_no} 的奖励状态为「{AWARD_STATUSES.zh(state)}」，只有已批准的奖励可以支付",
                         f"the award is {state}; only approved awards can be paid (mtx awards approve first)")
    before = audit.row_dict(award)
    award.status, award.paid_at = "paid", paid_at or utcnow()
    session.flush()
    audit.record(session, actor, "award.pay", "award", cert.cert_no, before, audit.row_dict(award))
    return audit.row_dict(award)


def revoke_certificate(session: Session, actor: Actor, cert_no: str, reason: str,
                       rules: AwardRuleSet | None = None) -> dict:
    """Revoke a certificate: its award is released if not paid, marked to recover if paid.

    With `rules`, the enterprise is re-allocated in the same transaction so the released headroom goes to the next
    eligible certificate. Administrators only.
    """
    require_role(actor, "admin", action="revoke certificates")
    if not reason or not reason.strip():
        raise AwardError("撤销须写明原因", "give a reason with --reason")
    cert, product = _certificate_for_change(session, cert_no)
    cert_no = cert.cert_no  # as stored: the argument may be a full-width or lower-case twin
    if cert.status == "revoked":
        raise AwardError(f"证书 {cert_no} 已于 {date_text(cert.revoked_at)} 撤销", "already revoked")
    before = audit.row_dict(cert)
    cert.status, cert.revoked_at, cert.revoked_reason = "revoked", utcnow(), reason.strip()
    session.flush()
    audit.record(session, actor, "certificate.revoke", "certificate", cert_no, before, audit.row_dict(cert))
    award = session.scalar(select(Award).where(Award.certificate_id == cert.id)
                           .execution_options(populate_existing=True))
    result = {"cert_no": cert_no, "cert_status": "revoked", "award_status": None, "amount": 0}
    if award is not None:
        state = revoked_state(_state(award))
        if state != _state(award):
            before = audit.row_dict(award)
            award.amount, award.status, award.reason_code, award.reason = (state.amount, state.status,
                                                                           state.reason_code, state.reason)
            session.flush()
            audit.record(session, actor, "award.revoke", "award", cert_no, before, audit.row_dict(award))
        result.update(award_status=award.status, amount=int(award.amount), reason=award.reason)
    if rules is not None:
        enterprise = session.get(Enterprise, product.enterprise_id)
        summary = recompute_awards(session, actor, rules, uscc=enterprise.uscc)
        result["recomputed"] = summary.changed + summary.created
    return result


# --- reading ----------------------------------------------------------------------------------------------------------


def award_rows(session: Session, actor: Actor, uscc: str | None = None,
               statuses: Iterable[str] | None = None) -> list[dict]:
    """Awards with their enterprise, product and certificate, scoped to what the actor may see."""
    from tracker.access import scope_enterprise

    stmt = (select(Award, Certificate, Product, Enterprise)
            .join(Certificate, Award.certificate_id == Certificate.id)
            .join(Product, Award.product_id == Product.id)
            .join(Enterprise, Award.enterprise_id == Enterprise.id)
            .order_by(Enterprise.name, Certificate.pass_date, Certificate.cert_no))
    if uscc is not None:
        stmt = stmt.where(Enterprise.id == get_enterprise(session, actor, uscc).id)
    stmt = scope_enterprise(stmt, actor, Enterprise.id)
    if statuses is not None:
        stmt = stmt.where(Award.status.in_(list(statuses)))
    out = []
    for award, cert, product, enterprise in session.execute(stmt):
        require_enterprise(actor, enterprise.id)
        out.append({"enterprise": enterprise.name, "uscc": enterprise.uscc, "product_name": product.name,
                    "product_type": product.product_type, "cert_no": cert.cert_no, "pass_date": cert.pass_date,
                    "os_version": cert.os_version, "amount": int(award.amount), "award_status": award.status,
                    "cert_status": cert.status, "reason_code": award.reason_code, "reason": award.reason,
                    "rule_set_version": award.rule_set_version, "decided_by": award.decided_by,
                    "decided_at": award.decided_at, "paid_at": award.paid_at})
    return out
