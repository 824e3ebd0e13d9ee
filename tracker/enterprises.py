"""Reading enterprises, scoped to what the acting user may see."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.access import Actor, require_enterprise, scope_enterprise
from tracker.models import Certificate, Enterprise, Product


class NotFound(LookupError):
    pass


def list_enterprises(session: Session, actor: Actor) -> list[dict]:
    """Enterprises with their product and certificate counts; an enterprise user sees only its own."""
    stmt = (select(Enterprise, func.count(func.distinct(Product.id)), func.count(Certificate.id))
            .outerjoin(Product, Product.enterprise_id == Enterprise.id)
            .outerjoin(Certificate, Certificate.product_id == Product.id)
            .group_by(Enterprise.id).order_by(Enterprise.name))
    stmt = scope_enterprise(stmt, actor, Enterprise.id)
    return [enterprise_dict(e) | {"products": p, "certificates": c} for e, p, c in session.execute(stmt)]


def get_enterprise(session: Session, actor: Actor, uscc: str) -> Enterprise:
    from tracker.ledger.identifiers import normalise_code

    enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == normalise_code(uscc)))
    if enterprise is None:
        # an enterprise user learns nothing about other codes: the same refusal whether or not it exists
        if actor.role == "enterprise":
            require_enterprise(actor, -1, f"enterprise {uscc}")
        raise NotFound(f"没有统一社会信用代码为 {uscc} 的企业 / no enterprise with code {uscc}")
    require_enterprise(actor, enterprise.id, f"enterprise {uscc}")
    return enterprise


def enterprise_dict(enterprise: Enterprise) -> dict:
    return {"name": enterprise.name, "uscc": enterprise.uscc, "district": enterprise.district,
            "registered_in_chongqing": enterprise.registered_in_chongqing}
