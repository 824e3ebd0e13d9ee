"""统一社会信用代码 (GB 32100-2015): the check character, as a table of codes people actually type."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from tracker.ledger.uscc import CHARSET, check_character, check_uscc, fictional_uscc, is_chongqing, make_uscc

VALID = "91350100M000100Y43"  # the worked example


@pytest.mark.parametrize("code, error", [
    (VALID, None),
    (f"  {VALID} ", None),                      # surrounding spaces are forgiven
    (fictional_uscc(1), None),
    (fictional_uscc(42, region="500112"), None),
    ("91350100M000100Y44", "wrong_check_character"),
    ("91350100M000100Y4", "wrong_length"),
    ("91350100M000100Y433", "wrong_length"),
    ("", "empty"),
    (None, "empty"),
    ("91350100m000100y43", None),                # case-free: upper-cased before the check
    ("91350100MI00100Y43", "forbidden_letter"),  # I
    ("91350100MO00100Y43", "forbidden_letter"),  # O
    ("91350100MS00100Y43", "forbidden_letter"),  # S
    ("91350100MV00100Y43", "forbidden_letter"),  # V
    ("91350100MZ00100Y43", "forbidden_letter"),  # Z
    ("91350100M-00100Y43", "bad_character"),
    ("９1350100M000100Y43", None),               # a full-width digit: NFKC
    ("91350100M000\u200b100Y43", None),          # a zero-width space from copy-paste
    ("91350100M-00100Y43\u00d7", "wrong_length"),
    ("B1350100M000100Y43", "bad_authority"),
    ("913501A0M000100Y43", "bad_region"),
])
def test_code_check(code, error):
    result = check_uscc(code)
    assert result.code == error
    if error:
        assert " / " in result.message and result.fix  # Chinese / English, with a fix


@pytest.mark.parametrize("written", [f"  {VALID} ", VALID.lower(), "９1350100M000100Y43", "91350100M000\u200b100Y43",
                                     "\uff19\uff11350100M000100Y43"])
def test_a_code_is_stored_in_one_spelling(written):
    assert check_uscc(written).value == VALID


def test_wrong_check_character_says_which_is_expected():
    result = check_uscc("91350100M000100Y44")
    assert "应为 3" in result.message and "should be 3" in result.message


def test_inner_organisation_code_check_only_warns():
    # a code whose own check passes but whose organisation code (positions 9-17) fails GB 11714
    code = make_uscc("91500000" + "12345678" + "0")
    result = check_uscc(code)
    assert result.ok
    assert result.warnings and "GB 11714" in result.warnings[0]


def test_fictional_codes_are_chongqing_and_pass_both_checks():
    for n in range(50):
        result = check_uscc(fictional_uscc(n))
        assert result.ok and not result.warnings and is_chongqing(result.value)


@given(st.text(alphabet=CHARSET, min_size=17, max_size=17), st.integers(0, 16),
       st.sampled_from(CHARSET))
def test_any_single_substitution_is_caught(first17, position, replacement):
    code = first17 + check_character(first17)
    changed = code[:position] + replacement + code[position + 1:]
    if changed != code:
        assert check_character(changed[:17]) != changed[17]
