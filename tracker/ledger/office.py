"""What the app's 认证台账 page needs beyond the ledger's own functions: the certificate list one page at a time (filtered,
ordered, counted and cut in SQL), a certificate's detail with its award and audit trail, and the CLI's steps on an
uploaded file or with the configured rule set. Every function checks the actor: administrators change, evaluators
read (the list, a detail, the 公示 list), enterprise users are refused.

Each change calls the function the command line calls, with the same arguments: `import_file` is `mtx certs import`
(which recomputes awards afterwards), `approve` is `mtx awards approve`, `pay` is `mtx awards pay`, `revoke` is
`mtx certs revoke`; so the page takes the same per-enterprise lock (tracker.ledger.awards.lock_enterprises) and
writes the same audit entries, under the signed-in user's name.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from common.bilingual import BilingualError
from tracker.access import Actor, require_role
from tracker.ledger.identifiers import normalise_code
from tracker.ledger.report import ImportReport
from tracker.ledger.schema import AwardRuleSet, ImportLimits
from tracker.models import AuditEntry, Award, Certificate, Enterprise, Product
from tracker.sqlutil import Page
from tracker.vocab import AWARD_STATUSES, CERT_STATUSES, LEDGER_ACTIONS, NOT_COMPUTED

PAGE_ROLES = ("admin", "evaluator")
AWARD_FILTERS = (*AWARD_STATUSES.values, NOT_COMPUTED)  # what the award-status filter offers
MAX_PAGE = 500


class ImportRefused(BilingualError):
    """The file had errors when it was imported (the database changed since the check): nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"导入时发现 {len(report.errors)} 个错误，未写入任何数据；请重新检查文件",
                         f"{len(report.errors)} error(s) found on import; nothing written: check the file again")
        self.report = report

    def __reduce__(self):
        return (self.__class__, (self.report,))


@dataclass(frozen=True)
class ImportOutcome:
    """What a confirmed import changed: the import's report and the recompute that followed it (None: nothing new)."""

    report: ImportReport
    recomputed: dict | None


# --- configuration, as the command line reads it ---------------------------------------------------------------------


def configured_rules(config_dir: str | Path) -> AwardRuleSet:
    """CONFIG/awards.yaml, as `mtx` reads it without --rules."""
    from tracker.ledger.rules import load_rule_set

    return load_rule_set(Path(config_dir) / "awards.yaml")


def configured_limits(config_dir: str | Path) -> ImportLimits:
    """The import limits of CONFIG/awards.yaml (`limits:`), or the defaults when there is no such file (as the CLI)."""
    path = Path(config_dir) / "awards.yaml"
    return configured_rules(config_dir).limits if path.is_file() else ImportLimits()


# --- reading --------------------------------------------------------------------------------------------------------


def ledger_filters(session: Session, actor: Actor) -> dict:
    """The choices the list's filters offer: the districts enterprises are in, the statuses."""
    require_role(actor, *PAGE_ROLES, action="the certificate ledger page")
    districts = session.scalars(select(Enterprise.district).where(Enterprise.district.is_not(None))
                                .distinct().order_by(Enterprise.district))
    return {"districts": list(districts), "cert_statuses": CERT_STATUSES.values, "award_statuses": AWARD_FILTERS}


def _row(c: Certificate, p: Product, e: Enterprise, a: Award | None) -> dict:
    return {"enterprise": e.name, "uscc": e.uscc, "district": e.district, "product_name": p.name,
            "product_type": p.product_type, "first_version": p.first_version, "cert_no": c.cert_no,
            "cert_type": c.programme, "issuer": c.issuer, "os_version": c.os_version, "api_level": c.api_level,
            "pass_date": c.pass_date, "cert_status": c.status, "derived_from": c.derived_from_no,
            "revoked_at": c.revoked_at, "revoked_reason": c.revoked_reason, "imported_at": c.imported_at,
            # no award row yet: the amount is unavailable (None), not 0
            "award_amount": int(a.amount) if a else None, "award_status": a.status if a else NOT_COMPUTED,
            "reason_code": a.reason_code if a else None, "reason": a.reason if a else None,
            "rule_set_version": a.rule_set_version if a else None, "decided_by": a.decided_by if a else None,
            "decided_at": a.decided_at if a else None, "paid_at": a.paid_at if a else None}


def certificate_page(session: Session, actor: Actor, *, enterprise: str | None = None,
                     cert_status: str | None = None, award_status: str | None = None,
                     passed_from: dt.date | None = None, passed_to: dt.date | None = None,
                     district: str | None = None, limit: int = 50, offset: int = 0) -> Page:
    """One page of certificates with their product, enterprise and award, ordered as `mtx certs list` (enterprise,
    pass date, number). Filters: `enterprise` (part of the name or of the code), the certificate's status, the award's
    status (`not_computed`: no award yet), the pass date from/to (inclusive), the enterprise's district."""
    require_role(actor, *PAGE_ROLES, action="the certificate ledger page")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"a page holds 1 to {MAX_PAGE} rows from offset 0 on, not limit={limit} offset={offset}")
    if cert_status is not None and cert_status not in CERT_STATUSES:
        raise ValueError(f"unknown certificate status {cert_status!r}")
    if award_status is not None and award_status not in AWARD_FILTERS:
        raise ValueError(f"unknown award status {award_status!r}")
    conditions = []
    text = (enterprise or "").strip()
    if text:
        conditions.append(or_(Enterprise.name.contains(text, autoescape=True),
                              Enterprise.uscc.contains(normalise_code(text), autoescape=True)))
    if cert_status:
        conditions.append(Certificate.status == cert_status)
    if award_status == NOT_COMPUTED:
        conditions.append(Award.id.is_(None))
    elif award_status:
        conditions.append(Award.status == award_status)
    if passed_from:
        conditions.append(Certificate.pass_date >= passed_from)
    if passed_to:
        conditions.append(Certificate.pass_date <= passed_to)
    if district:
        conditions.append(Enterprise.district == district)

    def joined(stmt):
        return (stmt.join(Product, Certificate.product_id == Product.id)
                .join(Enterprise, Product.enterprise_id == Enterprise.id)
                .outerjoin(Award, Award.certificate_id == Certificate.id).where(*conditions))

    total = session.scalar(joined(select(func.count(Certificate.id)).select_from(Certificate))) or 0
    stmt = (joined(select(Certificate, Product, Enterprise, Award).select_from(Certificate))
            .order_by(Enterprise.name, Enterprise.uscc, Certificate.pass_date, Certificate.cert_no)
            .limit(limit).offset(offset))
    return Page([_row(*found) for found in session.execute(stmt)], total, limit, offset)


def _shown_actor(name: str) -> str:
    from tracker.people.rules import mask_email

    return mask_email(name) if "@" in name else name


def _change_text(before: dict | None, after: dict | None) -> str:
    """The fields an audit entry changed, briefly: 状态 已核算 → 已批准；金额 20万元."""
    from tracker.formatting import yuan

    before, after = before or {}, after or {}
    parts = []
    if "status" in after and before.get("status") != after.get("status"):
        labels = AWARD_STATUSES if after["status"] in AWARD_STATUSES.values else CERT_STATUSES
        parts.append(("状态 " + labels.zh(before["status"]) + " → " if before.get("status") else "状态 ")
                     + labels.zh(after["status"]))
    if "amount" in after and (not before or before.get("amount") != after.get("amount")):
        parts.append(f"金额 {yuan(before['amount'])} → {yuan(after['amount'])}" if before.get("amount") is not None
                     else f"金额 {yuan(after['amount'])}")
    for key, label in (("revoked_reason", "撤销原因"), ("reason", "说明"), ("message", "说明")):
        if after.get(key) and after.get(key) != before.get(key):
            parts.append(f"{label}：{after[key]}")
    return "；".join(parts)


def certificate_detail(session: Session, actor: Actor, cert_no: str, rules: AwardRuleSet) -> dict:
    """One certificate: its row as the list shows it, the enterprise's balance under `rules` (`mtx certs balance`),
    and its audit trail (every entry on the certificate or its award, oldest first)."""
    from tracker.enterprises import NotFound
    from tracker.ledger.awards import enterprise_balance

    require_role(actor, *PAGE_ROLES, action="the certificate ledger page")
    number = normalise_code(cert_no)
    found = session.execute(
        select(Certificate, Product, Enterprise, Award).join(Product, Certificate.product_id == Product.id)
        .join(Enterprise, Product.enterprise_id == Enterprise.id)
        .outerjoin(Award, Award.certificate_id == Certificate.id).where(Certificate.cert_no == number)).first()
    if found is None:
        raise NotFound(f"没有证书 {cert_no} / no certificate {cert_no}")
    row = _row(*found)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity.in_(("certificate", "award")),
                                                       AuditEntry.entity_key == number)
                              .order_by(AuditEntry.at, AuditEntry.id))
    trail = [{"at": e.at, "actor": _shown_actor(e.actor), "role": e.actor_role, "action": e.action,
              "label": LEDGER_ACTIONS.zh(e.action), "change": _change_text(e.before, e.after)} for e in entries]
    return {"certificate": row, "balance": enterprise_balance(session, actor, row["uscc"], rules), "audit": trail}


# --- files ------------------------------------------------------------------------------------------------------------


def _as_bytes(write, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="mtx-") as folder:
        path = Path(folder) / f"out{suffix}"
        write(path)
        return path.read_bytes()


def _with_upload(name: str, data: bytes, use):
    """Run ``use(path)`` on the uploaded file written to a private temporary folder under its own (base) name, so the
    report and the audit entry name the file the user chose."""
    from tracker.rounds.office import with_upload

    return with_upload(name, data, use)


def template_file(suffix: str = ".xlsx") -> bytes:
    """`mtx certs template FILE.xlsx|.csv`, as bytes."""
    from tracker.ledger.template import write_template

    return _as_bytes(write_template, suffix)


def report_file(report: ImportReport, suffix: str = ".xlsx") -> bytes:
    """The problems of a checked file, as `mtx certs import --report FILE.xlsx|.csv` writes them."""
    from tracker.ledger.report import write_report

    return _as_bytes(lambda path: write_report(report, path), suffix)


def public_list_file(session: Session, actor: Actor, rules: AwardRuleSet) -> bytes:
    """The 公示 list (approved and paid awards), as `mtx awards export FILE.xlsx` writes it. Administrators and
    evaluators."""
    from tracker.ledger.export import export_public_list

    require_role(actor, *PAGE_ROLES, action="download the 公示 list")
    return _as_bytes(lambda path: export_public_list(session, actor, rules, path), ".xlsx")


# --- changes (administrators; each the CLI's function) ----------------------------------------------------------------


def check_file(session: Session, actor: Actor, name: str, data: bytes, config_dir: str | Path) -> ImportReport:
    """`mtx certs import FILE --dry-run`: every row checked, nothing written."""
    from tracker.ledger.importer import import_certificates

    require_role(actor, "admin", action="import certificates")
    limits = configured_limits(config_dir)
    return _with_upload(name, data, lambda path: import_certificates(session, actor, path, dry_run=True,
                                                                     limits=limits))


def import_file(session: Session, actor: Actor, name: str, data: bytes, config_dir: str | Path) -> ImportOutcome:
    """`mtx certs import FILE`: checked again and, without errors, written; then awards are recomputed under
    CONFIG/awards.yaml (`mtx awards recompute`). A file with errors raises ImportRefused and writes nothing."""
    from tracker.ledger.awards import recompute_awards
    from tracker.ledger.importer import import_certificates

    require_role(actor, "admin", action="import certificates")
    limits = configured_limits(config_dir)
    rules = configured_rules(config_dir)
    report = _with_upload(name, data, lambda path: import_certificates(session, actor, path, limits=limits))
    if not report.ok:
        raise ImportRefused(report)
    recomputed = recompute_awards(session, actor, rules).as_dict() if report.written else None
    return ImportOutcome(report, recomputed)


def approve(session: Session, actor: Actor, config_dir: str | Path, *, uscc: str | None = None,
            cert_no: str | None = None):
    """`mtx awards approve USCC` or `--cert CERT_NO` under CONFIG/awards.yaml: the enterprise locked, re-allocated,
    each award approved only within the ceiling; refusals returned and audited, not raised."""
    from tracker.ledger.awards import approve_awards

    return approve_awards(session, actor, configured_rules(config_dir), uscc=uscc, cert_no=cert_no)


def pay(session: Session, actor: Actor, cert_no: str) -> dict:
    """`mtx awards pay CERT_NO`."""
    from tracker.ledger.awards import pay_award

    return pay_award(session, actor, cert_no)


def revoke(session: Session, actor: Actor, config_dir: str | Path, cert_no: str, reason: str) -> dict:
    """`mtx certs revoke CERT_NO --reason …` under CONFIG/awards.yaml (the enterprise re-allocated afterwards)."""
    from tracker.ledger.awards import revoke_certificate

    return revoke_certificate(session, actor, cert_no, reason, configured_rules(config_dir))
