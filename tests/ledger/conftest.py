"""Shared ledger fixtures: the shipped rule set, fictional enterprises, certificates built from plain values."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tracker.access import Actor
from tracker.ledger.rules import load_rule_set
from tracker.ledger.uscc import fictional_uscc
from tracker.models import Certificate, Enterprise, Product

ROOT = Path(__file__).resolve().parents[2]
RULES_FILE = ROOT / "config" / "awards.yaml"
EXAMPLES = ROOT / "config" / "awards" / "examples"
ADMIN = Actor("office", "admin")
EVALUATOR = Actor("expert", "evaluator")


@pytest.fixture(scope="session")
def rules():
    return load_rule_set(RULES_FILE)


def add_enterprise(session, n: int, name: str | None = None, registered: bool = True) -> Enterprise:
    enterprise = Enterprise(name=name or f"示例{n:03d}科技有限公司（虚构）", uscc=fictional_uscc(n),
                            district="渝北区", registered_in_chongqing=registered)
    session.add(enterprise)
    session.flush()
    return enterprise


def add_certificate(session, enterprise: Enterprise, cert_no: str, product: str, pass_date: str = "2025-03-01",
                    product_type: str = "开发板", first_version: bool = True, status: str = "valid",
                    derived_from: str | None = None, version: str = "5.0.2") -> Certificate:
    from sqlalchemy import select

    from tracker.ledger.columns import normalise_product_name

    key = normalise_product_name(product)
    row = session.scalar(select(Product).where(Product.enterprise_id == enterprise.id,
                                               Product.normalised_name == key, Product.product_type == product_type))
    if row is None:
        row = Product(enterprise_id=enterprise.id, name=product, normalised_name=key, product_type=product_type,
                      first_version=first_version)
        session.add(row)
        session.flush()
    cert = Certificate(product_id=row.id, cert_no=cert_no, issuer="开放原子开源基金会",
                       programme="OpenHarmony生态产品兼容性证书", os_version=version, api_level=14,
                       pass_date=dt.date.fromisoformat(pass_date), status=status, derived_from_no=derived_from)
    session.add(cert)
    session.flush()
    return cert
