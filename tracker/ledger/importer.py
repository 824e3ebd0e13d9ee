"""Importing the programme office's certificate spreadsheet: every row checked, then all rows written or none.

The import runs in three passes over plain values: each cell (codes, dates, versions, types), the file as a whole
(duplicates, one name per code, references between rows), then the database (same certificate number with different
data is a conflict; a changed enterprise name is an update). Only a file without errors is written, in the caller's
transaction; importing the same file again finds every certificate unchanged and writes nothing.

The first two passes run as the rows stream in, keeping only the keys the cross-row checks need; the rows without an
error wait in a temporary file, and the database pass and the writing (plain INSERTs and audit entries in chunks of
CHUNK_ROWS) read them back a chunk at a time, so memory stays nearly flat in the number of rows.
"""
from __future__ import annotations

import datetime as dt
import pickle
import re
import tempfile
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Container, Iterable, Iterator, NamedTuple

from sqlalchemy import any_, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import Actor, require_role
from tracker.ledger.auditing import record_created_values
from tracker.ledger.columns import (
    COLUMN_BY_KEY, COLUMNS, CHONGQING_DISTRICTS, HEADER_LOOKUP, ISSUER_BY_CERT_TYPE, STATUS_ZH, CellError, clean_name,
    header_key, name_key, normalise_product_name, parse_date, parse_product_type, parse_status, parse_yes_no, text_of)
from tracker.ledger.schema import ImportLimits
from tracker.ledger.identifiers import normalise_code
from tracker.ledger.reading import FileUnreadable, Sheet, file_sha256, open_sheet
from tracker.ledger.report import ImportIssue, ImportReport
from tracker.ledger.uscc import check_uscc, is_chongqing
from tracker.ledger.versions import VersionError, normalise_os_version, old_version_after_cutoff
from tracker.models import Certificate, Enterprise, Product, utcnow
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


# --- pass 2: the file as a whole, one row at a time -------------------------------------------------------------------


class _FileChecks:
    """Each row against the first row with the same key, as the rows stream past.

    Only keys, first-row numbers and the few values compared are kept, never the rows: memory grows with the distinct
    certificates, enterprises and products, a few dozen bytes each, not with whole parsed rows.
    """

    def __init__(self, out: _Collector):
        self.out = out
        self.first_cert: dict[str, int] = {}  # cert_no -> its first row
        self.by_code: dict[str, tuple[int, str, Any, Any]] = {}  # uscc -> (row, name, district, registered)
        self.by_name: dict[str, tuple[int, str]] = {}  # name key -> (row, uscc)
        self.by_product: dict[tuple, int] = {}  # identity -> 2 * its first row + its first_version
        self.codes: dict[str, str] = {}  # one string per code, shared by every key that holds it
        self.derived: dict[str, tuple[str, int, str]] = {}  # cert_no -> (derived_from, row, derived_from as written)

    def check(self, row: Row) -> None:
        out, v = self.out, row.values
        if "uscc" in v:
            v["uscc"] = self.codes.setdefault(v["uscc"], v["uscc"])
        if "cert_no" in v:
            seen_at = self.first_cert.get(v["cert_no"])
            if seen_at is not None:
                out.add(row, "cert_no", "cert_no.duplicate_in_file", f"证书编号与第 {seen_at} 行重复 / the same "
                        f"certificate number as row {seen_at}", "删除重复行，或改正编号 / delete the duplicate row "
                        "or correct the number")
                v.pop("cert_no")
            else:
                self.first_cert[v["cert_no"]] = row.number
                if v.get("derived_from") is not None:
                    self.derived[v["cert_no"]] = (v["derived_from"], row.number, row.raw.get("derived_from", ""))
        if row.has("uscc", "enterprise_name"):
            seen = self.by_code.setdefault(v["uscc"], (row.number, v["enterprise_name"], v.get("district"),
                                                        v.get("registered_in_chongqing")))
            if seen[0] != row.number:
                seen_at, seen_name = seen[0], seen[1]
                if name_key(seen_name) != name_key(v["enterprise_name"]):
                    out.add(row, "enterprise_name", "enterprise_name.differs_in_file",
                            f"同一代码在第 {seen_at} 行的企业名称为「{seen_name}」 / row "
                            f"{seen_at} gives another name for the same code", "统一企业名称（以营业执照为准） / use "
                            "one name, as on the business licence")
                for key, label, a in (("district", "所在区县", seen[2]),
                                      ("registered_in_chongqing", "注册地在重庆", seen[3])):
                    b = v.get(key)
                    if a is not None and b is not None and a != b:
                        out.add(row, key, f"{key}.differs_in_file", f"同一企业在第 {seen_at} 行的{label}不同 / "
                                f"row {seen_at} gives another {key} for the same enterprise",
                                "同一企业各行填写一致 / make every row of the enterprise agree")
            named_at, named_code = self.by_name.setdefault(name_key(v["enterprise_name"]), (row.number, v["uscc"]))
            if named_code != v["uscc"]:
                out.add(row, "uscc", "uscc.differs_in_file", f"同名企业在第 {named_at} 行的代码为 "
                        f"{named_code} / row {named_at} gives another code for the same name",
                        "一个企业只有一个统一社会信用代码，核对后统一 / an enterprise has one code: correct one of them")
        if row.has("uscc", "product_key", "product_type", "first_version"):
            seen_at, first_version = divmod(self.by_product.setdefault(
                row.product_identity, 2 * row.number + bool(v["first_version"])), 2)
            if first_version != v["first_version"]:
                out.add(row, "first_version", "first_version.differs_in_file",
                        f"同一产品在第 {seen_at} 行的首版次为 {'是' if first_version else '否'} / "
                        f"row {seen_at} says otherwise for the same product", "同一产品各行填写一致 / make the "
                        "rows of one product agree")

    def finish(self) -> set[int]:
        """Derived-from chains inside the file must end (no cycles); the rows that fail here, by number."""
        failed = set()
        self.by_code, self.by_name, self.by_product, self.codes = {}, {}, {}, {}  # no longer needed
        for no, (target, number, written) in self.derived.items():
            seen_nos = {no}
            current: str | None = target
            while current is not None and current in self.first_cert:
                if current in seen_nos:
                    self.out.add(Row(number, {"derived_from": written}), "derived_from", "derived_from.cycle",
                                 f"继承关系成环（{no} → … → {current}） / the derived-from references form a cycle",
                                 "首次认证的证书不填「继承自」 / leave derived_from empty on the original certificate")
                    failed.add(number)
                    break
                seen_nos.add(current)
                current = self.derived[current][0] if current in self.derived else None
        return failed


class _Spill:
    """Items written to a temporary file in pickled chunks and read back in order, chunk by chunk: a pass over every
    row in flat memory (the file is ours, written and read by this process only)."""

    def __init__(self, size: int):
        self._file = tempfile.TemporaryFile()
        self._buffer: list = []
        self._size = size
        self.count = 0

    def append(self, item: Any) -> None:
        self._buffer.append(item)
        self.count += 1
        if len(self._buffer) >= self._size:
            self._dump()

    def _dump(self) -> None:
        if self._buffer:
            pickle.dump(self._buffer, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._buffer = []

    def chunks(self) -> Iterator[list]:
        self._dump()
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)
            except EOFError:
                return

    def close(self) -> None:
        self._file.close()


# rows held in memory at once in passes 3 and 4 (a chunk's parsed rows, its stored matches, one INSERT's values)
CHUNK_ROWS = 2000


# --- pass 3: against the database, a chunk of rows at a time ----------------------------------------------------------


def _chunks(items: Iterable, size: int = 900) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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


class _NewCertificate(NamedTuple):
    """What writing a new certificate needs, and no more (kept on disk between the check and the write)."""

    identity: tuple[str, str, str]
    cert_no: str
    issuer: str
    cert_type: str
    os_version: str
    api_level: int | None
    pass_date: dt.date
    status: str
    derived_from: str | None


@dataclass
class _Plan:
    new_enterprises: dict[str, str] = field(default_factory=dict)  # uscc -> the name on its first row
    enterprise_updates: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> changed fields
    new_products: dict[tuple, int | None] = field(default_factory=dict)  # identity -> None; the id once written
    product_rows: _Spill = field(default_factory=lambda: _Spill(CHUNK_ROWS))  # (identity, name, first_version)
    new_certificates: _Spill = field(default_factory=lambda: _Spill(CHUNK_ROWS))  # _NewCertificate, in file order
    registered: dict[str, bool] = field(default_factory=dict)  # uscc -> the value a row states explicitly
    district: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0
    recertifications: int = 0


def _shown(key: str, value: Any) -> str:
    if key == "status":
        return STATUS_ZH.get(value, str(value))
    return "" if value is None else str(value)


def _stored_certificates(session: Session, cert_nos: Iterable[str]) -> dict[str, dict[str, Any]]:
    """cert_no -> the compared fields as stored."""
    stored: dict[str, dict[str, Any]] = {}
    columns = (Certificate.cert_no, Enterprise.uscc, Product.normalised_name, Product.name, Product.product_type,
               Certificate.programme, Certificate.issuer, Certificate.os_version, Certificate.pass_date,
               Certificate.status, Certificate.derived_from_no)
    for clause in _member_of(session, Certificate.cert_no, sorted(set(cert_nos))):
        stmt = (select(*columns).join(Product, Certificate.product_id == Product.id)
                .join(Enterprise, Product.enterprise_id == Enterprise.id).where(clause))
        for no, uscc, key, pname, ptype, programme, issuer, version, day, status, derived in session.execute(stmt):
            stored[no] = {"uscc": uscc, "product_name": key, "product_type": ptype, "cert_type": programme,
                          "issuer": issuer, "os_version": version, "pass_date": day, "status": status,
                          "derived_from": derived, "_product_name": pname}
    return stored


def _stored_enterprises(session: Session, codes: Iterable[str]) -> dict[str, Any]:
    """uscc -> (id, name, district, registered_in_chongqing) as stored."""
    found = {}
    for clause in _member_of(session, Enterprise.uscc, sorted(set(codes))):
        stmt = select(Enterprise.uscc, Enterprise.id, Enterprise.name, Enterprise.district,
                      Enterprise.registered_in_chongqing).where(clause)
        found.update({uscc: rest for uscc, *rest in session.execute(stmt)})
    return found


def _stored_products(session: Session, codes: Iterable[str]) -> dict[tuple, Any]:
    """(uscc, normalised name, type) -> (id, name, first_version) for every stored product of these enterprises."""
    found = {}
    for clause in _member_of(session, Enterprise.uscc, sorted(set(codes))):
        stmt = (select(Enterprise.uscc, Product.normalised_name, Product.product_type, Product.id, Product.name,
                       Product.first_version).join(Enterprise, Product.enterprise_id == Enterprise.id).where(clause))
        found.update({(uscc, key, ptype): rest for uscc, key, ptype, *rest in session.execute(stmt)})
    return found


def _check_database(out: _Collector, session: Session, chunks: Iterable[list[Row]], file_cert_nos: Container[str],
                    plan: _Plan) -> None:
    """Each row without an error against what is stored, a chunk of rows at a time, into `plan`; the new certificates
    and products wait on disk."""
    # to tell first certifications from re-certifications: for each stored product that gets a new certificate, its
    # first certificate (pass date, number), stored or new; True when that first one is new. (Of a new product's
    # certificates, all but the first are re-certifications.)
    first_of_product: dict[int, tuple[dt.date, str, bool]] = {}
    codes_seen: dict[str, str] = {}  # one string per code, shared by every key that holds it
    for good in chunks:
        stored = _stored_certificates(session, [r.values["cert_no"] for r in good]
                                      + [r.values["derived_from"] for r in good if r.values.get("derived_from")])
        codes = {r.values["uscc"] for r in good}
        enterprises = _stored_enterprises(session, codes)
        products = _stored_products(session, enterprises)
        new: list[tuple[Row, int | None]] = []  # (row, id of its stored product)
        for row in good:
            v = row.values
            if v.get("registered_in_chongqing") is not None:
                plan.registered.setdefault(v["uscc"], v["registered_in_chongqing"])
            if v.get("district"):
                plan.district.setdefault(v["uscc"], v["district"])
            enterprise = enterprises.get(v["uscc"])
            if enterprise is not None:  # a changed name, district or registration under the same code is an update
                enterprise_id, name, district, registered = enterprise
                changes = plan.enterprise_updates.setdefault(enterprise_id, {})
                if name != v["enterprise_name"]:
                    changes["name"] = v["enterprise_name"]
                if v.get("district") and district != v["district"]:
                    changes["district"] = v["district"]
                if v.get("registered_in_chongqing") is not None and registered != v["registered_in_chongqing"]:
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
                            if key == "status" else "以证书原件为准改正本行；若登记有误请联系管理员 / correct the row "
                            "from the certificate; if the stored record is wrong, ask an administrator")
                    out.add(row, key, "cert_no.conflicts_with_database",
                            f"证书 {v['cert_no']} 已登记，但{label}不同（已登记「{_shown(key, before)}」）"
                            f" / certificate {v['cert_no']} is stored with a different {key} ({_shown(key, before)!r})",
                            hint)
                continue
            derived = v.get("derived_from")
            if derived and derived not in file_cert_nos and derived not in stored:
                out.add(row, "derived_from", "derived_from.unknown", f"被继承的证书 {derived} 既不在文件中也未登记 / "
                        f"certificate {derived} is neither in the file nor stored", "先导入被继承的证书，或改正编号 / "
                        "import the source certificate first, or correct the number")
                continue
            if enterprise is None:
                plan.new_enterprises.setdefault(v["uscc"], v["enterprise_name"])
            identity = (codes_seen.setdefault(v["uscc"], v["uscc"]), v["product_key"], v["product_type"])
            product = products.get(identity)
            if product is not None and product[2] != v["first_version"]:
                out.add(row, "first_version", "first_version.conflicts_with_database",
                        f"产品「{product[1]}」已登记为{'首版次' if product[2] else '非首版次'} / the stored "
                        "product says otherwise", "按已登记的填写，或请管理员更正产品 / match the stored product")
                continue
            if product is None and identity not in plan.new_products:
                plan.new_products[identity] = None
                plan.product_rows.append((identity, v["product_name"], v["first_version"]))
            new.append((row, None if product is None else product[0]))
        _note_first_certificates(session, new, first_of_product)
        for row, _ in new:
            v = row.values
            plan.new_certificates.append(_NewCertificate(
                row.product_identity, v["cert_no"], v["issuer"], v["cert_type"], v["os_version"], v["api_level"],
                v["pass_date"], v["status"], v.get("derived_from")))
    plan.recertifications = (plan.new_certificates.count - len(plan.new_products)
                             - sum(1 for *_, is_new in first_of_product.values() if is_new))
    plan.enterprise_updates = {k: c for k, c in plan.enterprise_updates.items() if c}


def _note_first_certificates(session: Session, new: list[tuple[Row, int | None]],
                             first_of_product: dict[int, tuple[dt.date, str, bool]]) -> None:
    """Keep, per stored product, the earliest (pass date, number) among its stored certificates and the new ones."""
    unseen = sorted({pid for _, pid in new if pid is not None and pid not in first_of_product})
    for clause in _member_of(session, Certificate.product_id, unseen):
        stmt = select(Certificate.product_id, Certificate.pass_date, Certificate.cert_no).where(clause)
        for pid, pass_date, no in session.execute(stmt):
            first = first_of_product.get(pid)
            if first is None or (pass_date, no) < first[:2]:
                first_of_product[pid] = (pass_date, no, False)
    for row, pid in new:
        if pid is not None:
            v = row.values
            first = first_of_product.get(pid)
            if first is None or (v["pass_date"], v["cert_no"]) < first[:2]:
                first_of_product[pid] = (v["pass_date"], v["cert_no"], True)


# --- writing, in chunks of plain INSERTs ------------------------------------------------------------------------------


def _after(table, values: dict[str, Any]) -> dict[str, Any]:
    """The audit entry's `after` for a row inserted with `values`: every column, as tracker.audit.row_dict gives it."""
    return {c.key: values.get(c.key) for c in table.columns}


def _insert(session: Session, model, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT the rows; their new ids, in the same order."""
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


def _apply(session: Session, actor: Actor, plan: _Plan, report: ImportReport, file_hash: str) -> None:
    now = utcnow()
    enterprise_ids: dict[str, int] = {}  # uscc -> id of every enterprise created
    for chunk in _chunks(plan.new_enterprises.items(), CHUNK_ROWS):
        ids = _insert(session, Enterprise, [_new_enterprise(plan, uscc, name, now) for uscc, name in chunk])
        enterprise_ids.update(zip((uscc for uscc, _ in chunk), ids))
    for enterprise_id, changes in plan.enterprise_updates.items():
        enterprise = session.get(Enterprise, enterprise_id)
        before = audit.row_dict(enterprise)
        for key, value in changes.items():
            setattr(enterprise, key, value)
        session.flush()
        audit.record(session, actor, "enterprise.update", "enterprise", enterprise.uscc, before,
                     audit.row_dict(enterprise))
    session.flush()
    table = Enterprise.__table__
    for chunk in _chunks(plan.new_enterprises.items(), CHUNK_ROWS):
        record_created_values(session, actor, "enterprise.create", "enterprise", [
            (uscc, _after(table, _new_enterprise(plan, uscc, name, now) | {"id": enterprise_ids[uscc]}))
            for uscc, name in chunk])

    table = Product.__table__
    for chunk in plan.product_rows.chunks():
        stored = _stored_enterprises(session, {i[0] for i, *_ in chunk if i[0] not in enterprise_ids})
        values = [{"enterprise_id": enterprise_ids[i[0]] if i[0] in enterprise_ids else stored[i[0]][0],
                   "name": name, "normalised_name": i[1], "product_type": i[2], "first_version": first_version}
                  for i, name, first_version in chunk]
        ids = _insert(session, Product, values)
        record_created_values(session, actor, "product.create", "product", [
            (f"{i[0]}/{row['name']}/{i[2]}", _after(table, row | {"id": pid}))
            for (i, *_), row, pid in zip(chunk, values, ids)])
        for (identity, *_), pid in zip(chunk, ids):
            plan.new_products[identity] = pid

    certificate_ids, product_ids = array("q"), array("q")  # in file order, for the audit entries written once
    # derived_from_id is known
    derived: list[tuple[int, str]] = []  # (id, derived_from)
    for chunk in plan.new_certificates.chunks():
        stored = _stored_products(session, {c.identity[0] for c in chunk if c.identity not in plan.new_products})
        values = [_new_certificate(c, plan.new_products.get(c.identity) or stored[c.identity][0], now)
                  for c in chunk]
        ids = _insert(session, Certificate, values)
        certificate_ids.extend(ids)
        product_ids.extend(row["product_id"] for row in values)
        derived.extend((cid, c.derived_from) for cid, c in zip(ids, chunk) if c.derived_from)
    source_ids: dict[str, int] = {}
    for clause in _member_of(session, Certificate.cert_no, sorted({no for _, no in derived})):
        source_ids.update(dict(session.execute(select(Certificate.cert_no, Certificate.id).where(clause)).all()))
    links = [{"id": cid, "derived_from_id": source_ids[no]} for cid, no in derived if no in source_ids]
    for chunk in _chunks(links, CHUNK_ROWS):
        session.execute(update(Certificate), chunk)
    table = Certificate.__table__
    position = 0
    for chunk in plan.new_certificates.chunks():
        entries = []
        for c in chunk:
            row = _new_certificate(c, product_ids[position], now)
            row |= {"id": certificate_ids[position], "derived_from_id": source_ids.get(c.derived_from)
                    if c.derived_from else None}
            position += 1
            entries.append((c.cert_no, _after(table, row)))
        record_created_values(session, actor, "certificate.create", "certificate", entries)
    audit.record(session, actor, "certificates.import", "import", report.file, None,
                 {"sha256": file_hash, **report.summary()})
    session.flush()


def _new_enterprise(plan: _Plan, uscc: str, name: str, now: dt.datetime) -> dict[str, Any]:
    return {"name": name, "uscc": uscc, "district": plan.district.get(uscc),
            "registered_in_chongqing": plan.registered.get(uscc, is_chongqing(uscc)), "created_at": now,
            "updated_at": now}


def _new_certificate(c: _NewCertificate, product_id: int, now: dt.datetime) -> dict[str, Any]:
    return {"product_id": product_id, "cert_no": c.cert_no, "issuer": c.issuer, "programme": c.cert_type,
            "os_version": c.os_version, "api_level": c.api_level, "pass_date": c.pass_date, "status": c.status,
            "revoked_at": None, "revoked_reason": None, "derived_from_no": c.derived_from, "derived_from_id": None,
            "imported_at": now}


# --- entry point ------------------------------------------------------------------------------------------------------


def import_certificates(session: Session, actor: Actor, path: str | Path, *, dry_run: bool = False,
                        today: dt.date | None = None, limits: ImportLimits | None = None,
                        sheet: str | None = None) -> ImportReport:
    """Check every row of a CSV/XLSX file and, when there is no error and not a dry run, write it in `session`.

    Nothing is written when any row has an error; the report lists each problem with its Excel row number, the column
    as written, the value and the fix. A file over `limits` is refused before its rows are read; rows are parsed and
    checked as they are read, and those without errors wait on disk for the database passes, so memory stays nearly
    flat in the number of rows. `sheet` names the XLSX sheet (default: the active visible one). Administrators only.
    The caller commits.
    """
    require_role(actor, "admin", action="import certificates")
    path = Path(path)
    report = ImportReport(file=path.name, dry_run=dry_run)
    today = today or dt.date.today()
    good = _Spill(CHUNK_ROWS)  # rows without an error so far, as (number, cells as written, values)
    try:
        return _import(session, actor, path, report, good, dry_run, today, limits, sheet)
    finally:
        good.close()


def _import(session: Session, actor: Actor, path: Path, report: ImportReport, good: _Spill, dry_run: bool,
            today: dt.date, limits: ImportLimits | None, sheet: str | None) -> ImportReport:
    try:
        with open_sheet(path, limits, sheet) as opened:
            report.encoding, report.sheet = opened.encoding, opened.sheet
            columns, written_headers = _map_headers(opened, report)
            if report.errors:
                return report
            out = _Collector(report, written_headers)
            checks = _FileChecks(out)
            for number, cells in opened.rows:
                row = _parse_row(out, number, cells, columns, opened.numeric_cells, today)
                report.rows += 1
                checks.check(row)
                if not row.failed:
                    good.append((row.number, row.raw, row.values))
    except FileUnreadable as exc:
        report.rows = 0
        report.issues = [i for i in report.issues if i.row == 1]  # a half-read file reports only why it stopped
        report.issues.append(ImportIssue(1, "", "", exc.code, str(exc), exc.fix))
        return report
    if not report.rows:
        out.add(2, "cert_no", "file.no_rows", "文件没有数据行 / the file has no data rows",
                "从第 2 行起每行填写一张证书 / add one certificate per row from row 2")
    in_cycles = checks.finish()
    rows = ([Row(number, raw, values) for number, raw, values in chunk if number not in in_cycles]
            for chunk in good.chunks())
    plan = _Plan()
    try:
        _check_database(out, session, rows, checks.first_cert, plan)
        report.issues.sort(key=lambda i: (i.row, i.severity != "error"))
        if report.errors:
            return report
        report.enterprises_created = len(plan.new_enterprises)
        report.enterprises_updated = len(plan.enterprise_updates)
        report.products_created = len(plan.new_products)
        report.certificates_created = plan.new_certificates.count
        report.certificates_unchanged = plan.unchanged
        report.recertifications = plan.recertifications
        if dry_run or not plan.new_certificates.count and not plan.enterprise_updates:
            return report
        _apply(session, actor, plan, report, file_sha256(path))
        report.written = True
        return report
    finally:
        plan.new_certificates.close()
        plan.product_rows.close()
