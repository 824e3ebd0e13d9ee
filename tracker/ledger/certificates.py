"""Reading certificates with their products, enterprises and awards, scoped to what the acting user may see."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access import Actor, scope_enterprise
from tracker.enterprises import get_enterprise
from tracker.models import Award, Certificate, Enterprise, Product


def list_certificates(session: Session, actor: Actor, uscc: str | None = None) -> list[dict]:
    """Every certificate the actor may see (an enterprise user: its own), ordered by enterprise and pass date."""
    stmt = (select(Certificate, Product, Enterprise, Award)
            .join(Product, Certificate.product_id == Product.id)
            .join(Enterprise, Product.enterprise_id == Enterprise.id)
            .outerjoin(Award, Award.certificate_id == Certificate.id)
            .order_by(Enterprise.name, Enterprise.uscc, Certificate.pass_date, Certificate.cert_no))
    if uscc is not None:
        stmt = stmt.where(Enterprise.id == get_enterprise(session, actor, uscc).id)
    stmt = scope_enterprise(stmt, actor, Enterprise.id)
    return [{"enterprise": e.name, "uscc": e.uscc, "product_name": p.name, "product_type": p.product_type,
             "first_version": p.first_version, "cert_no": c.cert_no, "cert_type": c.programme, "issuer": c.issuer,
             "os_version": c.os_version, "api_level": c.api_level, "pass_date": c.pass_date, "cert_status": c.status,
             "derived_from": c.derived_from_no, "revoked_reason": c.revoked_reason,
             "award_amount": int(a.amount) if a else None, "award_status": a.status if a else None,
             "reason_code": a.reason_code if a else None}
            for c, p, e, a in session.execute(stmt)]
