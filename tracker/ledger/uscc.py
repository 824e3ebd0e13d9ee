"""统一社会信用代码 (GB 32100-2015): the check character, and the inner organisation code's check (GB 11714).

Pure functions. `check_uscc` never raises: it returns what is wrong (in Chinese and English) and how to fix it, so the
importer can put it in a row report. The inner GB 11714 check only warns: codes issued before the unified scheme carry
organisation codes whose check the registry did not always enforce.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tracker.ledger.identifiers import normalise_code

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
VALUES = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
AUTHORITIES = "123456789ANY"  # position 1: the registering authority
FORBIDDEN = "IOSVZ"

# GB 11714: eight body characters (digits and upper-case letters, A=10 … Z=35), weights, then the check character
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
CHONGQING_REGION_PREFIX = "50"


@dataclass(frozen=True)
class UsccCheck:
    """The outcome of checking one code. `ok` is False when `code` is set; warnings never make a code invalid."""

    value: str
    code: str | None = None  # stable error code: empty, wrong_length, forbidden_letter, bad_character, ...
    message: str = ""  # Chinese / English
    fix: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.code is None


def check_character(first17: str) -> str:
    """The 18th character for 17 characters from CHARSET (raises KeyError on a character outside it)."""
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def organisation_check_character(body8: str) -> str | None:
    """GB 11714 check character for the 8-character organisation code body; None if the body is not alphanumeric."""
    total = 0
    for ch, weight in zip(body8, ORG_WEIGHTS):
        if ch.isdigit():
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - ord("A") + 10
        else:
            return None
        total += value * weight
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def check_uscc(value: str | None) -> UsccCheck:
    """Check a 统一社会信用代码 as written, after `normalise_code` (full-width forms, zero-width characters, spaces
    and lower case are forgiven: the code is case-free), nothing else."""
    raw = "" if value is None else str(value)
    code = normalise_code(raw)
    if not code:
        return UsccCheck(raw, "empty", "统一社会信用代码为空 / the code is empty",
                         "填写 18 位统一社会信用代码 / enter the 18-character code, e.g. 91350100M000100Y43")
    if len(code) != 18:
        return UsccCheck(raw, "wrong_length", f"代码应为 18 位，实为 {len(code)} 位 / the code has {len(code)} "
                         "characters, it needs 18", "核对营业执照上的代码，补全或删去多余字符 / copy the code from the "
                         "business licence; check for missing or extra characters")
    forbidden = sorted({c for c in code if c in FORBIDDEN})
    if forbidden:
        letters = "、".join(forbidden)
        return UsccCheck(raw, "forbidden_letter", f"代码不使用字母 {letters} / the code never contains {letters} "
                         "(GB 32100 leaves out I, O, S, V, Z)",
                         "常见误写：O→0，I→1，S→5，Z→2，V→U；请对照营业执照 / usual slips: O->0, I->1, S->5, Z->2, V->U; "
                         "check the business licence")
    bad = sorted({c for c in code if c not in VALUES})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return UsccCheck(raw, "bad_character", f"代码含非法字符 {shown} / the code contains {shown}",
                         "只用数字和大写字母（不含 I O S V Z） / use digits and upper-case letters only (not I O S V Z)")
    if code[0] not in AUTHORITIES:
        return UsccCheck(raw, "bad_authority", f"第 1 位登记管理部门代码 {code[0]!r} 无效 / position 1 (registering "
                         f"authority) {code[0]!r} is not one of {', '.join(AUTHORITIES)}",
                         "核对营业执照 / check the code on the business licence (companies start with 9)")
    if not code[2:8].isdigit():
        return UsccCheck(raw, "bad_region", f"第 3–8 位行政区划码 {code[2:8]!r} 应为数字 / positions 3-8 (region) "
                         f"{code[2:8]!r} must be digits", "核对营业执照 / check the code on the business licence")
    expected = check_character(code[:17])
    if code[17] != expected:
        return UsccCheck(raw, "wrong_check_character", f"校验位错误：第 18 位应为 {expected}，实为 {code[17]} / wrong "
                         f"check character: position 18 should be {expected}, not {code[17]}",
                         "代码很可能抄错了一位，请对照营业执照逐位核对 / a character was probably mistyped: compare "
                         "every character with the business licence")
    warnings: list[str] = []
    inner = organisation_check_character(code[8:16])
    if inner is not None and inner != code[16]:
        warnings.append(f"内含组织机构代码校验位（GB 11714）应为 {inner}，实为 {code[16]}；整体校验位正确，仅提示 / "
                        f"the inner organisation code's check (GB 11714) expects {inner}, not {code[16]}; the code's "
                        "own check passes, so this is only a warning")
    return UsccCheck(code, warnings=tuple(warnings))


def is_valid_uscc(value: str | None) -> bool:
    return check_uscc(value).ok


def region_code(uscc: str) -> str:
    return uscc[2:8]


def is_chongqing(uscc: str) -> bool:
    """Registered in Chongqing by the code's region (positions 3-8 = 50xxxx)."""
    return uscc[2:4] == CHONGQING_REGION_PREFIX


def make_uscc(prefix: str) -> str:
    """Complete a fictional code: 8 leading characters (authority, type, region) + 8-character organisation body.

    `prefix` may be 16 characters (the inner GB 11714 check is added) or 17 (only the final check is added).
    For demos and tests only: never attach a generated code to a real company's name.
    """
    if len(prefix) == 16:
        inner = organisation_check_character(prefix[8:16])
        if inner is None:
            raise ValueError(f"organisation body {prefix[8:16]!r} must be digits and upper-case letters")
        prefix += inner
    if len(prefix) != 17:
        raise ValueError("give 16 or 17 characters")
    return prefix + check_character(prefix)


def fictional_uscc(n: int, region: str = "500000") -> str:
    """The n-th fictional valid code in a Chongqing region (for sample data, tests and benchmarks)."""
    body = f"{n:08d}"
    return make_uscc(f"91{region}{body}")
