"""Importing the programme office's certificate spreadsheet: every row checked, then all rows written or none.

The import runs in three passes over plain values: each cell (codes, dates, versions, types), the file as a whole
(duplicates, one name per code, references between rows), then the database (same certificate number with different
data is a conflict; a changed enterprise name is an update). Only a file without errors is written, in the caller's
transaction; importing the same file again finds every certificate unchanged and writes nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import any_, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import Actor, require_role
from tracker.ledger.auditing import record_created
from tracker.ledger.columns import (
    COLUMN_BY_KEY, COLUMNS, CHONGQING_DISTRICTS, HEADER_LOOKUP, ISSUER_BY_CERT_TYPE, STATUS_ZH, CellError, clean_name,
    header_key, name_key, normalise_product_name, parse_date, parse_product_type, parse_status, parse_yes_no, text_of)
from tracker.ledger.schema import ImportLimits
from tracker.ledger.identifiers import normalise_code
from tracker.ledger.reading import FileUnreadable, Sheet, file_sha256, open_sheet
from tracker.ledger.report import ImportIssue, ImportReport
from tracker.ledger.uscc import check_uscc, is_chongqing
from tracker.ledger.versions import VersionError, normalise_os_version, old_version_after_cutoff
from tracker.models import Certificate, Enterprise, Product
from tracker.spreadsheet import looks_like_formula

MAX_LENGTH = {"enterprise_name": 200, "district": 50, "product_name": 300, "cert_no": 100, "cert_type": 200,
              "issuer": 200, "derived_from": 100}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ISSUER_BY_TYPE_KEY = {name_key(k): v for k, v in ISSUER_BY_CERT_TYPE.items()}
# the fields compared when a certificate number is already stored: key -> (label, column key)
_COMPARED = (("uscc", "企业（统一社会信用代码）"), ("product_name", "产品名称"), ("product_type", "产品类型"),
             ("cert_type", "证书类型"), ("issuer", "颁发机构"), ("os_version", "系统版本"), ("pass_date", "通过日期"),
             ("status", "状态"), ("derived_from", "继承自"))


@dataclass(slots=True)
class Row:
    """One data row: the cells as written and the values that parsed."""

    number: int
    raw: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)

    def has(self, *keys: str) -> bool:
        return all(k in self.values for k in keys)

    @property
    def product_identity(self) -> tuple[str, str, str]:
        return (self.values["uscc"], self.values["product_key"], self.values["product_type"])


class _Collector:
    """Issues, with the column shown as written in the file."""

    def __init__(self, report: ImportReport, written_headers: dict[str, str]):
        self.report = report
        self.headers = written_headers

    def column(self, key: str) -> str:
        return self.headers.get(key) or COLUMN_BY_KEY[key].zh

    def add(self, row: Row | int, key: str, code: str, message: str, fix: str, severity: str = "error",
            value: str | None = None) -> None:
        number = row.number if isinstance(row, Row) else row
        if value is None:
            value = row.raw.get(key, "") if isinstance(row, Row) else ""
        self.report.issues.append(ImportIssue(number, self.column(key), value, code, message, fix, severity))  # type: ignore[arg-type]
        if isinstance(row, Row) and severity == "error":
            row.failed.add(key)


# --- pass 1: header and cells -----------------------------------------------------------------------------------------


def _map_headers(sheet: Sheet, report: ImportReport) -> tuple[dict[int, str], dict[str, str]]:
    by_index: dict[int, str] = {}
    written: dict[str, str] = {}
    for index, header in enumerate(sheet.headers):
        if not header:
            continue
        key = HEADER_LOOKUP.get(header_key(header))
        if key is None:
            report.issues.append(ImportIssue(1, header, header, "header.unknown_column",
                                             f"未知列「{header}」，已忽略 / unknown column {header!r}, ignored",
                                             "删除该列或改为模板中的列名 / remove it or use a header from the template "
                                             "(mtx certs template)", "warning"))
            continue
        if key in written:
            report.issues.append(ImportIssue(1, header, header, "header.duplicate_column",
                                             f"列「{header}」与「{written[key]}」是同一列 / columns {header!r} and "
                                             f"{written[key]!r} are the same column", "只保留一列 / keep one of them"))
            continue
        by_index[index] = key
        written[key] = header
    for column in COLUMNS:
        if column.required and column.key not in written:
            report.issues.append(ImportIssue(1, column.zh, "", "header.missing_column",
                                             f"缺少必填列「{column.zh}」 / required column {column.zh} "
                                             f"({column.key}) is missing",
                                             f"在第 1 行加上列「{column.zh}」（或英文 {column.key}） / add the column "
                                             f"{column.zh} (or {column.key}) to row 1"))
    return by_index, written


def _raw_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    return text_of(value)


def _required_text(out: _Collector, row: Row, key: str) -> str | None:
    text = row.raw.get(key, "")
    label = COLUMN_BY_KEY[key].zh
    if not text:
        out.add(row, key, f"{key}.missing", f"「{label}」为空 / {key} is empty",
                f"填写{label}（{COLUMN_BY_KEY[key].help_zh}） / fill in {key}")
        return None
    return _checked_text(out, row, key, text)


def _checked_text(out: _Collector, row: Row, key: str, text: str) -> str | None:
    limit = MAX_LENGTH.get(key)
    if limit and len(text) > limit:
        out.add(row, key, f"{key}.too_long", f"长度 {len(text)} 超过 {limit} 字 / {len(text)} characters, at most "
                f"{limit}", "删去多余内容（是否把几列粘到了一格？） / shorten it (were several cells pasted into one?)")
        return None
    if _CONTROL.search(text):
        out.add(row, key, f"{key}.control_character", "含换行或控制字符 / contains a line break or control character",
                "删去格内的换行 / remove the line break inside the cell")
        return None
    if looks_like_formula(text):
        out.add(row, key, f"{key}.formula_like", "以 = + - @ 开头，像电子表格公式；按文本保存，导出时也只作文本 / starts "
                "like a spreadsheet formula: stored as text and exported as text, never run",
                "核对是否确为证书上的写法；若无误可忽略 / check it is written so on the certificate; if so, ignore this",
                "warning")
    return text


def _parse_row(out: _Collector, number: int, cells: list[Any], columns: dict[int, str], typed: bool,
               today: dt.date) -> Row:
    source: dict[str, Any] = {key: (cells[i] if i < len(cells) else None) for i, key in columns.items()}
    row = Row(number, {key: _raw_text(value) for key, value in source.items()})
    v = row.values

    name = _required_text(out, row, "enterprise_name")
    if name is not None:
        v["enterprise_name"] = clean_name(name)

    code = source.get("uscc")
    if typed and isinstance(code, (int, float)) and not isinstance(code, bool):
        out.add(row, "uscc", "uscc.stored_as_number", "代码被 Excel 存成了数字，位数可能已丢失 / Excel stored the code "
                "as a number; digits may be lost", "把该列设为「文本」格式后重新粘贴代码 / format the column as Text "
                "and paste the code again")
    else:
        checked = check_uscc(row.raw.get("uscc", ""))
        if checked.ok:
            v["uscc"] = checked.value
            for warning in checked.warnings:
                out.add(row, "uscc", "uscc.organisation_code_check", warning,
                        "核对营业执照；若一致可忽略 / check the licence; if it matches, ignore this", "warning")
        else:
            out.add(row, "uscc", f"uscc.{checked.code}", checked.message, checked.fix)

    district = row.raw.get("district", "")
    if district:
        district = _checked_text(out, row, "district", district)
        if district is not None:
            v["district"] = re.sub(r"^重庆市?", "", district) or district
    else:
        v["district"] = None

    product = _required_text(out, row, "product_name")
    if product is not None:
        v["product_name"] = clean_name(product)
        v["product_key"] = normalise_product_name(product)

    try:
        v["product_type"] = parse_product_type(source.get("product_type"))
    except CellError as exc:
        out.add(row, "product_type", f"product_type.{exc.code}", exc.message, exc.fix)

    cert_value = source.get("cert_no")
    if typed and isinstance(cert_value, float) and (not cert_value.is_integer() or abs(cert_value) >= 2 ** 53):
        out.add(row, "cert_no", "cert_no.stored_as_number", "证书编号被 Excel 存成了数字，位数可能已丢失 / Excel stored "
                "the certificate number as a number; digits may be lost", "把该列设为「文本」格式后重新粘贴 / format "
                "the column as Text and paste the number again")
    else:
        cert_no = _required_text(out, row, "cert_no")
        if cert_no is not None:
            v["cert_no"] = normalise_code(cert_no)  # a full-width or lower-case twin is the same certificate

    cert_type = _required_text(out, row, "cert_type")
    if cert_type is not None:
        v["cert_type"] = cert_type
    issuer = row.raw.get("issuer", "")
    if issuer:
        issuer = _checked_text(out, row, "issuer", issuer)
        if issuer is not None:
            v["issuer"] = issuer
    elif cert_type is not None:
        default = _ISSUER_BY_TYPE_KEY.get(name_key(cert_type))
        if default is None:
            out.add(row, "issuer", "issuer.missing", f"颁发机构为空，且无法从证书类型「{cert_type}」推断 / the issuer is "
                    f"empty and cannot be inferred from the certificate type", "填写颁发机构 / fill in the issuer")
        else:
            v["issuer"] = default

    version_text = row.raw.get("os_version", "")
    if not version_text:
        out.add(row, "os_version", "os_version.missing", "系统版本为空 / the version is empty",
                "填写证书上的系统版本，如 5.0.2 / fill in the version, e.g. 5.0.2")
    else:
        try:
            version = normalise_os_version(version_text)
            v["os_version"], v["api_level"] = version.version, version.api_level
            if version.api_level is None:
                out.add(row, "os_version", "os_version.unknown_api_level", f"版本 {version.version} 不在 API 级别对照表中 "
                        f"/ version {version.version} is not in the API level table", "核对版本号；若无误可忽略 / "
                        "check the version; if it is right, ignore this", "warning")
        except VersionError as exc:
            out.add(row, "os_version", "os_version.unreadable", str(exc),
                    "写成 5.0.2 或 OpenHarmony 5.0.2 Release / write it like 5.0.2 or OpenHarmony 5.0.2 Release")

    try:
        v["pass_date"] = parse_date(source.get("pass_date"), today)
    except CellError as exc:
        out.add(row, "pass_date", f"pass_date.{exc.code}", exc.message, exc.fix)
    if row.has("os_version", "pass_date") and old_version_after_cutoff(v["os_version"], v["pass_date"]):
        out.add(row, "os_version", "os_version.old_after_cutoff", f"{v['pass_date']} 通过却基于 {v['os_version']}；"
                "2025-07-01 起新产品不得基于 4.1 及更早版本测评 / passed after 2025-07-01 on 4.1 or older, which new "
                "products may no longer use", "核对版本和日期；若为老产品复评可忽略 / check the version and date",
                "warning")

    for key, parser in (("status", parse_status),):
        try:
            v[key] = parser(source.get(key))
        except CellError as exc:
            out.add(row, key, f"{key}.{exc.code}", exc.message, exc.fix)
    for key, default in (("first_version", True), ("registered_in_chongqing", None)):
        try:
            v[key] = parse_yes_no(source.get(key), default)
        except CellError as exc:
            out.add(row, key, f"{key}.{exc.code}", exc.message, exc.fix)

    derived = row.raw.get("derived_from", "")
    if derived:
        derived = _checked_text(out, row, "derived_from", derived)
        if derived is not None:
            derived = normalise_code(derived)
            if "cert_no" in v and derived == v["cert_no"]:
                out.add(row, "derived_from", "derived_from.self", "证书不能继承自自身 / a certificate cannot derive "
                        "from itself", "填写被继承的证书编号，首次认证留空 / give the source certificate, or leave "
                        "it empty for a first certification")
            else:
                v["derived_from"] = derived
    else:
        v["derived_from"] = None

    if row.has("uscc", "registered_in_chongqing") and v["registered_in_chongqing"] is True \
            and not is_chongqing(v["uscc"]):
        out.add(row, "registered_in_chongqing", "registered_in_chongqing.region_differs",
                f"代码登记地 {v['uscc'][2:8]} 不在重庆（50xxxx），但填写为 是 / the code's region is not Chongqing but "
                "the row says 是", "核对注册地；迁入重庆的企业可忽略 / check; ignore for companies that moved in",
                "warning")
    registered = v.get("registered_in_chongqing")
    if registered is None and "uscc" in v:
        registered = is_chongqing(v["uscc"])
    if v.get("district") and registered and v["district"] not in CHONGQING_DISTRICTS:
        out.add(row, "district", "district.unknown", f"「{v['district']}」不是重庆的区县 / not a Chongqing district "
                "or county", "写区县全称，如 渝北区、两江新区 / use the full name, e.g. 渝北区", "warning")
    return row


# --- pass 2: the file as a whole --------------------------------------------------------------------------------------


def _check_file(out: _Collector, rows: list[Row]) -> None:
    first_cert: dict[str, Row] = {}
    by_code: dict[str, Row] = {}
    by_name: dict[str, Row] = {}
    by_product: dict[tuple, Row] = {}
    for row in rows:
        v = row.values
        if "cert_no" in v:
            seen = first_cert.get(v["cert_no"])
            if seen is not None:
                out.add(row, "cert_no", "cert_no.duplicate_in_file", f"证书编号与第 {seen.number} 行重复 / the same "
                        f"certificate number as row {seen.number}", "删除重复行，或改正编号 / delete the duplicate row "
                        "or correct the number")
                v.pop("cert_no")
            else:
                first_cert[v["cert_no"]] = row
        if row.has("uscc", "enterprise_name"):
            seen = by_code.setdefault(v["uscc"], row)
            if seen is not row:
                if name_key(seen.values["enterprise_name"]) != name_key(v["enterprise_name"]):
                    out.add(row, "enterprise_name", "enterprise_name.differs_in_file",
                            f"同一代码在第 {seen.number} 行的企业名称为「{seen.values['enterprise_name']}」 / row "
                            f"{seen.number} gives another name for the same code", "统一企业名称（以营业执照为准） / use "
                            "one name, as on the business licence")
                for key, label in (("district", "所在区县"), ("registered_in_chongqing", "注册地在重庆")):
                    a, b = seen.values.get(key), v.get(key)
                    if a is not None and b is not None and a != b:
                        out.add(row, key, f"{key}.differs_in_file", f"同一企业在第 {seen.number} 行的{label}不同 / "
                                f"row {seen.number} gives another {key} for the same enterprise",
                                "同一企业各行填写一致 / make every row of the enterprise agree")
            named = by_name.setdefault(name_key(v["enterprise_name"]), row)
            if named.values.get("uscc") != v["uscc"]:
                out.add(row, "uscc", "uscc.differs_in_file", f"同名企业在第 {named.number} 行的代码为 "
                        f"{named.values.get('uscc')} / row {named.number} gives another code for the same name",
                        "一个企业只有一个统一社会信用代码，核对后统一 / an enterprise has one code: correct one of them")
        if row.has("uscc", "product_key", "product_type", "first_version"):
            seen = by_product.setdefault(row.product_identity, row)
            if seen.values["first_version"] != v["first_version"]:
                out.add(row, "first_version", "first_version.differs_in_file",
                        f"同一产品在第 {seen.number} 行的首版次为 {'是' if seen.values['first_version'] else '否'} / "
                        f"row {seen.number} says otherwise for the same product", "同一产品各行填写一致 / make the "
                        "rows of one product agree")
    # derived_from chains inside the file must end (no cycles)
    targets = {no: r.values.get("derived_from") for no, r in first_cert.items() if "cert_no" in r.values}
    for no, row in first_cert.items():
        seen_nos = {no}
        current = targets.get(no)
        while current is not None and current in targets:
            if current in seen_nos:
                out.add(row, "derived_from", "derived_from.cycle", f"继承关系成环（{no} → … → {current}） / the "
                        "derived-from references form a cycle", "首次认证的证书不填「继承自」 / leave derived_from empty "
                        "on the original certificate")
                break
            seen_nos.add(current)
            current = targets.get(current)


# --- pass 3: against the database -------------------------------------------------------------------------------------


def _chunks(items: list, size: int = 900) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _member_of(session: Session, column, values: Iterable) -> Iterable:
    """WHERE clauses selecting rows whose `column` is in `values`: one `= ANY(array)` on PostgreSQL (a 10,000-item
    IN list costs the driver more than the query), IN lists of 900 on SQLite (its limit on parameters)."""
    values = list(values)
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(literal(values, ARRAY(column.type)))
        return
    for chunk in _chunks(values):
        yield column.in_(chunk)


@dataclass
class _Plan:
    new_enterprises: dict[str, Row] = field(default_factory=dict)  # uscc -> first row
    enterprise_updates: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> changed fields
    new_products: dict[tuple, Row] = field(default_factory=dict)  # identity -> first row
    new_certificates: list[Row] = field(default_factory=list)
    registered: dict[str, bool] = field(default_factory=dict)  # uscc -> the value a row states explicitly
    district: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0
    recertifications: int = 0


def _shown(key: str, value: Any) -> str:
    if key == "status":
        return STATUS_ZH.get(value, str(value))
    return "" if value is None else str(value)


def _check_database(out: _Collector, session: Session, rows: list[Row]) -> _Plan:
    plan = _Plan()
    good = [r for r in rows if not r.failed]
    cert_nos = sorted({r.values["cert_no"] for r in good} | {r.values["derived_from"] for r in good
                                                                if r.values.get("derived_from")})
    stored: dict[str, dict[str, Any]] = {}  # cert_no -> the compared fields as stored
    columns = (Certificate.cert_no, Enterprise.uscc, Product.normalised_name, Product.name, Product.product_type,
               Certificate.programme, Certificate.issuer, Certificate.os_version, Certificate.pass_date,
               Certificate.status, Certificate.derived_from_no)
    for clause in _member_of(session, Certificate.cert_no, cert_nos):
        stmt = (select(*columns).join(Product, Certificate.product_id == Product.id)
                .join(Enterprise, Product.enterprise_id == Enterprise.id).where(clause))
        for no, uscc, key, pname, ptype, programme, issuer, version, day, status, derived in session.execute(stmt):
            stored[no] = {"uscc": uscc, "product_name": key, "product_type": ptype, "cert_type": programme,
                          "issuer": issuer, "os_version": version, "pass_date": day, "status": status,
                          "derived_from": derived, "_product_name": pname}
    codes = sorted({r.values["uscc"] for r in good})
    enterprises: dict[str, Enterprise] = {}
    for clause in _member_of(session, Enterprise.uscc, codes):
        enterprises.update({e.uscc: e for e in session.scalars(select(Enterprise).where(clause))})
    products: dict[tuple, Product] = {}
    ids = [e.id for e in enterprises.values()]
    by_id = {e.id: e for e in enterprises.values()}
    for clause in _member_of(session, Product.enterprise_id, ids):
        for p in session.scalars(select(Product).where(clause)):
            products[(by_id[p.enterprise_id].uscc, p.normalised_name, p.product_type)] = p
    # every certificate date per product, stored and new, to tell first certifications from re-certifications
    first_of_product: dict[tuple, tuple] = {}
    if products:
        product_key = {p.id: k for k, p in products.items()}
        for clause in _member_of(session, Certificate.product_id, list(product_key)):
            for pid, pass_date, no in session.execute(select(Certificate.product_id, Certificate.pass_date,
                                                             Certificate.cert_no).where(clause)):
                k = product_key[pid]
                first_of_product[k] = min(first_of_product.get(k, (pass_date, no)), (pass_date, no))

    file_cert_nos = {r.values["cert_no"] for r in rows if "cert_no" in r.values}
    for row in good:
        v = row.values
        if v.get("registered_in_chongqing") is not None:
            plan.registered.setdefault(v["uscc"], v["registered_in_chongqing"])
        if v.get("district"):
            plan.district.setdefault(v["uscc"], v["district"])
        enterprise = enterprises.get(v["uscc"])
        if enterprise is not None:  # a changed name, district or registration under the same code is an update
            changes = plan.enterprise_updates.setdefault(enterprise.id, {})
            if enterprise.name != v["enterprise_name"]:
                changes["name"] = v["enterprise_name"]
            if v.get("district") and enterprise.district != v["district"]:
                changes["district"] = v["district"]
            if v.get("registered_in_chongqing") is not None \
                    and enterprise.registered_in_chongqing != v["registered_in_chongqing"]:
                changes["registered_in_chongqing"] = v["registered_in_chongqing"]
        was = stored.get(v["cert_no"])
        if was is not None:
            now = {**v, "product_name": v["product_key"]}
            if not row.raw.get("status") and was["status"] == "revoked":
                now["status"] = "revoked"  # a blank status claims nothing: a revocation made in the ledger stands
            differing = [(key, label) for key, label in _COMPARED if was[key] != now.get(key)]
            if not differing:
                plan.unchanged += 1
                continue
            for key, label in differing:
                before = was["_product_name"] if key == "product_name" else was[key]
                hint = ("撤销证书请用 mtx certs revoke CERT_NO --reason … / revoke with mtx certs revoke"
                        if key == "status" else "以证书原件为准改正本行；若登记有误请联系管理员 / correct the row from "
                        "the certificate; if the stored record is wrong, ask an administrator")
                out.add(row, key, "cert_no.conflicts_with_database",
                        f"证书 {v['cert_no']} 已登记，但{label}不同（已登记「{_shown(key, before)}」）"
                        f" / certificate {v['cert_no']} is stored with a different {key} ({_shown(key, before)!r})",
                        hint)
            continue
        derived = v.get("derived_from")
        if derived and derived not in file_cert_nos and derived not in stored:
            out.add(row, "derived_from", "derived_from.unknown", f"被继承的证书 {derived} 既不在文件中也未登记 / "
                    f"certificate {derived} is neither in the file nor stored", "先导入被继承的证书，或改正编号 / import "
                    "the source certificate first, or correct the number")
            continue
        if enterprise is None:
            plan.new_enterprises.setdefault(v["uscc"], row)
        identity = row.product_identity
        product = products.get(identity)
        if product is not None and product.first_version != v["first_version"]:
            out.add(row, "first_version", "first_version.conflicts_with_database",
                    f"产品「{product.name}」已登记为{'首版次' if product.first_version else '非首版次'} / the stored "
                    "product says otherwise", "按已登记的填写，或请管理员更正产品 / match the stored product")
            continue
        if product is None:
            plan.new_products.setdefault(identity, row)
        plan.new_certificates.append(row)
    for row in plan.new_certificates:
        identity = row.product_identity
        first_of_product[identity] = min(first_of_product.get(identity, (row.values["pass_date"], row.values["cert_no"])),
                                         (row.values["pass_date"], row.values["cert_no"]))
    plan.recertifications = sum(1 for r in plan.new_certificates
                                if first_of_product[r.product_identity] != (r.values["pass_date"], r.values["cert_no"]))
    plan.enterprise_updates = {k: c for k, c in plan.enterprise_updates.items() if c}
    return plan


# --- writing ----------------------------------------------------------------------------------------------------------


def _apply(session: Session, actor: Actor, plan: _Plan, report: ImportReport, file_hash: str) -> None:
    enterprises: dict[str, Enterprise] = {}
    for uscc, row in plan.new_enterprises.items():
        v = row.values
        enterprises[uscc] = Enterprise(name=v["enterprise_name"], uscc=uscc, district=plan.district.get(uscc),
                                       registered_in_chongqing=plan.registered.get(uscc, is_chongqing(uscc)))
    session.add_all(enterprises.values())
    for enterprise_id, changes in plan.enterprise_updates.items():
        enterprise = session.get(Enterprise, enterprise_id)
        before = audit.row_dict(enterprise)
        for key, value in changes.items():
            setattr(enterprise, key, value)
        session.flush()
        audit.record(session, actor, "enterprise.update", "enterprise", enterprise.uscc, before,
                     audit.row_dict(enterprise))
    session.flush()
    codes = sorted({r.values["uscc"] for r in plan.new_certificates} - set(enterprises))
    for clause in _member_of(session, Enterprise.uscc, codes):
        for e in session.scalars(select(Enterprise).where(clause)):
            enterprises.setdefault(e.uscc, e)
    record_created(session, actor, "enterprise.create", "enterprise",
                   [(e.uscc, e) for e in enterprises.values() if e.uscc in plan.new_enterprises])

    products: dict[tuple, Product] = {}
    for identity, row in plan.new_products.items():
        v = row.values
        products[identity] = Product(enterprise_id=enterprises[identity[0]].id, name=v["product_name"],
                                     normalised_name=identity[1], product_type=identity[2],
                                     first_version=v["first_version"])
    session.add_all(products.values())
    session.flush()
    record_created(session, actor, "product.create", "product",
                   [(f"{identity[0]}/{p.name}/{p.product_type}", p) for identity, p in products.items()])
    missing = {r.product_identity for r in plan.new_certificates} - set(products)
    if missing:
        code_of = {e.id: u for u, e in enterprises.items()}
        ids = sorted({enterprises[i[0]].id for i in missing})
        for clause in _member_of(session, Product.enterprise_id, ids):
            for p in session.scalars(select(Product).where(clause)):
                products.setdefault((code_of[p.enterprise_id], p.normalised_name, p.product_type), p)

    certificates = []
    for row in plan.new_certificates:
        v = row.values
        certificates.append(Certificate(product_id=products[row.product_identity].id, cert_no=v["cert_no"],
                                        issuer=v["issuer"], programme=v["cert_type"], os_version=v["os_version"],
                                        api_level=v["api_level"], pass_date=v["pass_date"], status=v["status"],
                                        derived_from_no=v.get("derived_from")))
    session.add_all(certificates)
    session.flush()
    derived_nos = sorted({c.derived_from_no for c in certificates if c.derived_from_no})
    if derived_nos:
        ids: dict[str, int] = {}
        for clause in _member_of(session, Certificate.cert_no, derived_nos):
            ids.update(dict(session.execute(select(Certificate.cert_no, Certificate.id).where(clause)).all()))
        for c in certificates:
            if c.derived_from_no:
                c.derived_from_id = ids.get(c.derived_from_no)
        session.flush()
    record_created(session, actor, "certificate.create", "certificate", [(c.cert_no, c) for c in certificates])
    audit.record(session, actor, "certificates.import", "import", report.file, None,
                 {"sha256": file_hash, **report.summary()})
    session.flush()


# --- entry point ------------------------------------------------------------------------------------------------------


def import_certificates(session: Session, actor: Actor, path: str | Path, *, dry_run: bool = False,
                        today: dt.date | None = None, limits: ImportLimits | None = None,
                        sheet: str | None = None) -> ImportReport:
    """Check every row of a CSV/XLSX file and, when there is no error and not a dry run, write it in `session`.

    Nothing is written when any row has an error; the report lists each problem with its Excel row number, the column
    as written, the value and the fix. A file over `limits` is refused before its rows are read; rows are parsed as
    they are read. `sheet` names the XLSX sheet (default: the active visible one). Administrators only. The caller
    commits.
    """
    require_role(actor, "admin", action="import certificates")
    path = Path(path)
    report = ImportReport(file=path.name, dry_run=dry_run)
    today = today or dt.date.today()
    try:
        with open_sheet(path, limits, sheet) as opened:
            report.encoding, report.sheet = opened.encoding, opened.sheet
            columns, written_headers = _map_headers(opened, report)
            if report.errors:
                return report
            out = _Collector(report, written_headers)
            rows = []
            for number, cells in opened.rows:
                rows.append(_parse_row(out, number, cells, columns, opened.numeric_cells, today))
    except FileUnreadable as exc:
        report.issues = [i for i in report.issues if i.row == 1]  # a half-read file reports only why it stopped
        report.issues.append(ImportIssue(1, "", "", exc.code, str(exc), exc.fix))
        return report
    report.rows = len(rows)
    if not rows:
        out.add(2, "cert_no", "file.no_rows", "文件没有数据行 / the file has no data rows",
                "从第 2 行起每行填写一张证书 / add one certificate per row from row 2")
    _check_file(out, rows)
    plan = _check_database(out, session, rows)
    report.issues.sort(key=lambda i: (i.row, i.severity != "error"))
    if report.errors:
        return report
    report.enterprises_created = len(plan.new_enterprises)
    report.enterprises_updated = len(plan.enterprise_updates)
    report.products_created = len(plan.new_products)
    report.certificates_created = len(plan.new_certificates)
    report.certificates_unchanged = plan.unchanged
    report.recertifications = plan.recertifications
    if dry_run or not plan.new_certificates and not plan.enterprise_updates:
        return report
    _apply(session, actor, plan, report, file_sha256(path))
    report.written = True
    return report
