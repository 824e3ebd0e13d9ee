"""Fictional enterprises, products and certificates for the sample, with the award rules' hard cases at fixed places.

Block of 15 enterprises (repeated at larger scales): a third product past the ceiling, a re-certification on a newer
version, a revoked certificate, an enterprise registered outside Chongqing, a series certificate, a product that is
not a first version, a certificate passed before the policy window, and a certificate of an unaccepted programme.
"""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.engine import Connection

from tracker.formatting import beijing_day_end
from tracker.ledger.columns import normalise_product_name
from tracker.models import Certificate, Enterprise, Product
from tracker.sample import names

ISSUER = "开放原子开源基金会"
PROGRAMME = "OpenHarmony生态产品兼容性证书"
API_LEVELS = {"4.0": 10, "4.1": 11, "5.0.0": 12, "5.0.1": 13, "5.0.2": 14, "5.0.3": 15, "5.0.4": 16, "5.1.0": 18,
              "6.0": 20}
CQ_REGIONS = ["500112", "500106", "500107", "500108", "500105", "500103", "500113", "500109", "500104", "500227",
              "500116", "500118", "500117", "500151", "500120"]
OUTSIDE_REGION = "110108"
ORG_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(rng: random.Random, region: str) -> str:
    """A fictional, valid 统一社会信用代码: 9 (工商) 1 (企业), region, an organisation code with its check, the check."""
    from tracker.ledger.uscc import make_uscc as complete

    return complete("91" + region + "MA" + "".join(rng.choice(ORG_CODE_CHARS) for _ in range(6)))


def build_ledger(conn: Connection, seed: int, scale: int, as_of: dt.date, sizes: dict, writer, ids) -> None:
    rng = random.Random(f"{seed}:ledger")
    n_enterprises = sizes["enterprises"]
    cert_serial = 0
    used_codes: set[str] = set()
    for e in range(n_enterprises):
        case = e % 15
        block = e // 15
        word = names.ENTERPRISE_WORDS[case]
        suffix = names.ENTERPRISE_SUFFIX[(case + block) % len(names.ENTERPRISE_SUFFIX)]
        name = f"示例{word}{suffix}（虚构）" if block == 0 else f"示例{word}{block:03d}{suffix}（虚构）"
        outside = case == 3
        region = OUTSIDE_REGION if outside else CQ_REGIONS[(case + block) % len(CQ_REGIONS)]
        code = make_uscc(rng, region)
        while code in used_codes:
            code = make_uscc(rng, region)
        used_codes.add(code)
        eid = ids("enterprises")
        writer.add(Enterprise, {"id": eid, "name": name, "uscc": code,
                                "district": None if outside else names.DISTRICTS[(case + block) % len(names.DISTRICTS)],
                                "registered_in_chongqing": not outside,
                                "created_at": dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc),
                                "updated_at": dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)})
        plan = _plan(case, rng)
        first_cert_of_enterprise: str | None = None
        for p, (ptype, first_version, certs) in enumerate(plan):
            pid = ids("products")
            noun = names.PRODUCT_NOUNS[ptype][(p + case) % len(names.PRODUCT_NOUNS[ptype])]
            pname = f"{word}{noun} {chr(ord('A') + p)}{'' if block == 0 else block}"
            writer.add(Product, {"id": pid, "enterprise_id": eid, "name": pname,
                                 "normalised_name": normalise_product_name(pname), "product_type": ptype,
                                 "first_version": first_version})
            for cert in certs:
                cert_serial += 1
                cert_no = f"SAMPLE-OH-{cert['date'].year}-{cert_serial:05d}"
                derived = first_cert_of_enterprise if cert.get("derived") else None
                writer.add(Certificate, {
                    "id": ids("certificates"), "product_id": pid, "cert_no": cert_no,
                    "issuer": cert.get("issuer", ISSUER), "programme": cert.get("programme", PROGRAMME),
                    "os_version": cert["version"], "api_level": API_LEVELS.get(cert["version"]),
                    "pass_date": cert["date"], "status": "revoked" if cert.get("revoked") else "valid",
                    "revoked_at": dt.datetime.combine(cert["date"] + dt.timedelta(days=120), dt.time(),
                                                      dt.timezone.utc) if cert.get("revoked") else None,
                    "revoked_reason": "示例：复核发现兼容性测试报告不完整" if cert.get("revoked") else None,
                    "derived_from_no": derived, "derived_from_id": None,
                    "imported_at": beijing_day_end(as_of) - dt.timedelta(hours=2)})
                first_cert_of_enterprise = first_cert_of_enterprise or cert_no
    writer.flush()
    _link_derived(conn)


def _link_derived(conn: Connection) -> None:
    from sqlalchemy import select, update

    rows = conn.execute(select(Certificate.id, Certificate.derived_from_no)
                        .where(Certificate.derived_from_no.is_not(None))).all()
    for cid, source_no in rows:
        source_id = conn.scalar(select(Certificate.id).where(Certificate.cert_no == source_no))
        conn.execute(update(Certificate).where(Certificate.id == cid).values(derived_from_id=source_id))


def _d(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days))


def _plan(case: int, rng: random.Random) -> list[tuple[str, bool, list[dict]]]:
    """Products of one enterprise: (type, first_version, certificates)."""
    y25, y26 = (dt.date(2025, 1, 1), dt.date(2025, 12, 31)), (dt.date(2026, 1, 1), dt.date(2026, 10, 20))
    if case == 0:  # three products: the third only partly fits under the 500,000 ceiling
        return [("开发板", True, [{"date": dt.date(2025, 3, 10), "version": "5.0.0"}]),
                ("模组", True, [{"date": dt.date(2025, 6, 18), "version": "5.0.1"}]),
                ("设备", True, [{"date": dt.date(2025, 9, 5), "version": "5.0.2"}])]
    if case == 1:  # re-certification of the same product on a newer version
        return [("设备", True, [{"date": dt.date(2025, 4, 2), "version": "4.1"},
                                {"date": dt.date(2026, 3, 15), "version": "5.0.2"}]),
                ("软件", True, [{"date": _d(rng, *y26), "version": "5.1.0"}])]
    if case == 2:  # a revoked certificate
        return [("模组", True, [{"date": dt.date(2025, 5, 20), "version": "5.0.0", "revoked": True}]),
                ("开发板", True, [{"date": _d(rng, *y25), "version": "5.0.2"}])]
    if case == 3:  # registered outside Chongqing
        return [("设备", True, [{"date": dt.date(2025, 7, 1), "version": "5.0.2"}]),
                ("发行版", True, [{"date": _d(rng, *y26), "version": "5.1.0"}])]
    if case == 4:  # a series certificate derived from the enterprise's first one
        return [("模组", True, [{"date": dt.date(2025, 2, 14), "version": "5.0.0"}]),
                ("模组", True, [{"date": dt.date(2025, 8, 8), "version": "5.0.0", "derived": True}])]
    if case == 5:  # not a first-version product
        return [("设备", False, [{"date": dt.date(2025, 10, 9), "version": "5.0.3"}]),
                ("开发板", True, [{"date": _d(rng, *y26), "version": "5.1.0"}])]
    if case == 6:  # passed before the policy window
        return [("开发板", True, [{"date": dt.date(2024, 11, 20), "version": "4.1"}]),
                ("设备", True, [{"date": _d(rng, *y25), "version": "5.0.2"}])]
    if case == 7:  # an unaccepted programme
        return [("设备", True, [{"date": dt.date(2025, 11, 3), "version": "5.0.2",
                                 "issuer": "示例商业认证机构（虚构）", "programme": "鸿蒙智联产品认证（示例，非社区证书）"}]),
                ("软件", True, [{"date": _d(rng, *y26), "version": "5.1.0"}])]
    kinds = ["开发板", "模组", "设备", "发行版", "软件"]
    n = [3, 2, 3, 2, 3, 2, 2][case - 8]
    products = []
    for p in range(n):
        window = y25 if rng.random() < 0.5 else y26
        version = rng.choice(["5.0.0", "5.0.1", "5.0.2", "5.0.3", "5.1.0"] if window == y25 else ["5.0.3", "5.1.0", "6.0"])
        products.append((kinds[(case + p) % 5], True, [{"date": _d(rng, *window), "version": version}]))
    return products
