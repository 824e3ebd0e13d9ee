"""The certificate spreadsheet's columns and the pure parsers for its cells (dates, yes/no, types, statuses).

One list drives the template, the header matching of the importer and the documentation, so they cannot disagree.
Headers match in Chinese or English, ignoring case, spaces, full-width forms and a trailing "*" or "(必填)".
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from tracker.models import PRODUCT_TYPES
from tracker.vocab import CERT_STATUSES


@dataclass(frozen=True)
class Column:
    key: str  # English alias, also the internal name
    zh: str  # the Chinese header the template writes
    required: bool
    help_zh: str
    example: str
    aliases: tuple[str, ...] = ()


DEFAULT_CERT_TYPE = "OpenHarmony生态产品兼容性证书"
# 证书类型 -> 颁发机构 when the issuer column is blank
ISSUER_BY_CERT_TYPE = {
    "OpenHarmony生态产品兼容性证书": "开放原子开源基金会",
    "OpenHarmony兼容性证书": "开放原子开源基金会",
    "openEuler技术测评证书": "开放原子开源基金会",
    "openGauss兼容性证书": "开放原子开源基金会",
    "HarmonyOS Connect认证证书": "华为终端有限公司",
}

COLUMNS: tuple[Column, ...] = (
    Column("enterprise_name", "企业名称", True, "营业执照上的企业全称", "示例星辰科技有限公司（虚构）",
           ("企业", "公司名称", "company", "enterprise")),
    Column("uscc", "统一社会信用代码", True, "18 位，GB 32100-2015，大写", "915000000000000192",
           ("信用代码", "社会信用代码", "credit_code", "unified_social_credit_code")),
    Column("district", "所在区县", False, "重庆市区县，如 渝北区、两江新区", "渝北区", ("区县", "district_county")),
    Column("product_name", "产品名称", True, "证书上的产品名称", "星辰 A1 开发板", ("产品", "product")),
    Column("product_type", "产品类型", True, "开发板 / 模组 / 设备 / 发行版 / 软件", "开发板", ("类型", "category")),
    Column("cert_no", "证书编号", True, "证书上的编号，原样填写", "OH-EXAMPLE-0001",
           ("证书号", "certificate_no", "certificate_number")),
    Column("cert_type", "证书类型", True, "如 OpenHarmony生态产品兼容性证书", DEFAULT_CERT_TYPE,
           ("certificate_type", "programme")),
    Column("issuer", "颁发机构", False, "留空则按证书类型填写（OpenHarmony 证书为 开放原子开源基金会）", "开放原子开源基金会",
           ("发证机构", "issued_by")),
    Column("os_version", "系统版本", True, "如 5.0.2、OpenHarmony 5.0.2 Release", "OpenHarmony 5.0.2 Release",
           ("版本", "version", "system_version")),
    Column("pass_date", "通过日期", True, "2025-03-01、2025/3/1、2025年3月1日 或 Excel 日期", "2025-03-01",
           ("日期", "date", "passed_on")),
    Column("status", "状态", False, "有效 / 已撤销，默认 有效", "有效", ("证书状态", "cert_status")),
    Column("first_version", "首版次", False, "是 / 否，默认 是", "是", ("是否首版次",)),
    Column("derived_from", "继承自", False, "系列或继承证书所继承的证书编号；首次认证留空", "",
           ("系列证书来源", "inherited_from")),
    Column("registered_in_chongqing", "注册地在重庆", False, "是 / 否，默认按代码第 3–4 位（50 为重庆）", "是",
           ("注册地重庆", "chongqing")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}

CHONGQING_DISTRICTS = (
    "万州区", "涪陵区", "渝中区", "大渡口区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "綦江区", "大足区",
    "渝北区", "巴南区", "黔江区", "长寿区", "江津区", "合川区", "永川区", "南川区", "璧山区", "铜梁区", "潼南区", "荣昌区",
    "开州区", "梁平区", "武隆区", "城口县", "丰都县", "垫江县", "忠县", "云阳县", "奉节县", "巫山县", "巫溪县",
    "石柱土家族自治县", "秀山土家族苗族自治县", "酉阳土家族苗族自治县", "彭水苗族土家族自治县",
    "两江新区", "重庆高新区", "西部科学城重庆高新区", "万盛经开区",
)


def header_key(text: object) -> str:
    """A header as compared: NFKC, lower case, no spaces, no trailing '*' or '(必填)/(required)'."""
    s = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    s = re.sub(r"\((必填|选填|可选|required|optional)\)$", "", s)
    s = s.rstrip("*").strip()
    return re.sub(r"[\s_\-]+", "", s)


HEADER_LOOKUP: dict[str, str] = {}
for _c in COLUMNS:
    for _name in (_c.key, _c.zh, *_c.aliases):
        HEADER_LOOKUP[header_key(_name)] = _c.key


class CellError(ValueError):
    """A cell that cannot be read: message (Chinese / English) and the fix."""

    def __init__(self, code: str, message: str, fix: str):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix


def text_of(value: object) -> str:
    """A cell as text, as written: None -> '', integral floats without '.0', surrounding spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value).strip()


EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: object, today: dt.date | None = None) -> dt.date:
    """2025-03-01, 2025/3/1, 2025.3.1, 2025年3月1日, 20250301, an Excel date cell or an Excel serial number."""
    fix = "写成 2025-03-01 或 2025年3月1日 / write the date as 2025-03-01"
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise CellError("date_has_time", "日期带有时间 / the date has a time of day", fix)
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not float(value).is_integer() or not 36526 <= value <= 73051:  # 2000-01-01 .. 2099-12-31
            raise CellError("bad_date", f"{value} 不是有效的 Excel 日期 / {value} is not an Excel date", fix)
        day = EXCEL_EPOCH + dt.timedelta(days=int(value))
    else:
        text = unicodedata.normalize("NFKC", text_of(value))
        if not text:
            raise CellError("missing", "通过日期为空 / the date is empty", fix)
        if re.fullmatch(r"\d{5}", text):
            return parse_date(int(text), today)
        text = re.sub(r"[T ]00:00(:00)?$", "", text)
        for pattern in _DATE_PATTERNS:
            m = pattern.match(text)
            if m:
                try:
                    day = dt.date(int(m[1]), int(m[2]), int(m[3]))
                except ValueError:
                    raise CellError("bad_date", f"日期 {text} 不存在 / {text} is not a calendar date",
                                    "核对月份和日期 / check the month and day") from None
                break
        else:
            raise CellError("bad_date", f"无法识别的日期 {text!r} / cannot read {text!r} as a date", fix)
    today = today or dt.date.today()
    if day > today:
        raise CellError("future_date", f"日期 {day} 晚于今天 / {day} is in the future",
                        "填写证书上的通过日期 / use the pass date printed on the certificate")
    if day < dt.date(2019, 1, 1):
        raise CellError("date_too_early", f"日期 {day} 早于开源鸿蒙兼容性认证的开展 / {day} predates OpenHarmony "
                        "compatibility certification", "核对年份 / check the year")
    return day


_YES = {"是", "y", "yes", "true", "1", "√", "✓", "对"}
_NO = {"否", "n", "no", "false", "0", "×", "不是"}


def parse_yes_no(value: object, default: bool | None) -> bool | None:
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", text_of(value)).lower()
    if not text:
        return default
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError("bad_yes_no", f"{text_of(value)!r} 不是 是/否 / {text_of(value)!r} is not yes/no",
                    "填 是 或 否 / write 是 or 否")


_PRODUCT_TYPE_ALIASES = {
    "开发板": "开发板", "board": "开发板", "developmentboard": "开发板",
    "模组": "模组", "模块": "模组", "module": "模组",
    "设备": "设备", "整机": "设备", "设备(整机)": "设备", "device": "设备",
    "发行版": "发行版", "distribution": "发行版", "distro": "发行版",
    "软件": "软件", "应用": "软件", "软件/应用": "软件", "software": "软件", "app": "软件", "application": "软件",
}


def parse_product_type(value: object) -> str:
    text = text_of(value)
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower())
    if not key:
        raise CellError("missing", "产品类型为空 / the product type is empty", "填 " + " / ".join(PRODUCT_TYPES))
    if key not in _PRODUCT_TYPE_ALIASES:
        raise CellError("bad_product_type", f"未知产品类型 {text!r} / unknown product type {text!r}",
                        "填 " + " / ".join(PRODUCT_TYPES) + " 之一 / use one of these")
    return _PRODUCT_TYPE_ALIASES[key]


STATUS_ZH = CERT_STATUSES.labels()  # valid -> 有效, revoked -> 已撤销 (tracker.vocab)


def parse_status(value: object) -> str:
    text = text_of(value)
    if not text:
        return "valid"
    status = CERT_STATUSES.parse(text)
    if status is None:
        valid, revoked = CERT_STATUSES.zh("valid"), CERT_STATUSES.zh("revoked")
        raise CellError("bad_status", f"未知状态 {text!r} / unknown status {text!r}",
                        f"填 {valid} 或 {revoked}（留空为 {valid}） / write {valid} or {revoked} (blank means {valid})")
    return status


def normalise_product_name(name: str) -> str:
    """Product identity within an enterprise: NFKC, case-folded, without spaces, '-', '_' or '·'."""
    s = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"[\s\-_·•]+", "", s)


def clean_name(name: str) -> str:
    """A name as stored: as written, with runs of spaces made one."""
    return re.sub(r"\s+", " ", name).strip()


def name_key(name: str) -> str:
    """Names compared: NFKC (full-width and ASCII brackets alike), case-folded, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name).casefold())
