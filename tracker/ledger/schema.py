"""The shape of an award rule set (config/awards.yaml, policy item 10) and the checks that its rules agree.

Behaviour lives in tracker.ledger.rules and tracker.ledger.allocation; this module is the schema only, light to import
(no database), so tracker.config can validate awards.yaml alongside the other files.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field

from tracker.yamlsource import Problem, Strict, YamlSource


class Ceiling(Strict):
    amount: int = Field(gt=0, description="ceiling per enterprise, in yuan or as a number of products")
    unit: Literal["yuan", "products"] = "yuan"
    scope: Literal["policy_period", "calendar_year", "lifetime"] = "policy_period"


class DateWindow(Strict):
    start: dt.date | None = None
    end: dt.date | None = None


class Gates(Strict):
    registered_in_chongqing: bool = True


class ImportLimits(Strict):
    """Certificate import files beyond these are refused before they cost minutes and gigabytes."""

    max_file_mb: int = Field(50, gt=0, description="file size, MB")
    max_xlsx_uncompressed_mb: int = Field(200, gt=0, description="an XLSX's size once unzipped, MB (zip bombs)")
    max_rows: int = Field(200_000, gt=0, description="data rows")


class AwardRuleSet(Strict):
    """The certificate award rule set (policy item 10). Behaviour lives in tracker.ledger; this is its shape."""

    version: str = Field(description="rule-set version recorded on every award")
    name: str
    policy_period: DateWindow
    amount_per_product: int = Field(gt=0, description="yuan")
    amount_mode: Literal["fixed", "up_to"] = "fixed"
    ceiling: Ceiling
    last_award: Literal["partial", "whole_only"] = "partial"
    first_time_only: bool = True
    exclude_derived: bool = True
    require_first_version: bool = True
    accepted_issuers: list[str] = Field(default_factory=list)
    accepted_cert_types: list[str] = Field(default_factory=list)
    product_types: list[str] = Field(default_factory=list)
    min_os_version: str | None = None
    pass_date_window: DateWindow = Field(default_factory=DateWindow)
    gates: Gates = Field(default_factory=Gates)
    limits: ImportLimits = Field(default_factory=ImportLimits, description="import file limits (not award rules)")


def check_award_rules(rules: AwardRuleSet, src: YamlSource, problems: list[Problem], prefix: tuple = ()) -> None:
    """Rules that contradict each other: no award could ever be paid, or windows that cannot hold."""
    c = rules.ceiling
    if c.unit == "yuan" and rules.amount_per_product > c.amount and rules.last_award == "whole_only":
        problems.append(src.problem(prefix + ("amount_per_product",),
                                    f"{rules.amount_per_product} per product exceeds the ceiling of {c.amount} yuan "
                                    "with last_award: whole_only, so no award can ever be made",
                                    "lower amount_per_product, raise ceiling.amount or use last_award: partial"))
    if c.unit == "products" and rules.last_award == "whole_only":
        problems.append(src.problem(prefix + ("last_award",),
                                    "last_award only matters for a money ceiling; a product-count ceiling is whole",
                                    "remove last_award or use ceiling.unit: yuan", "warning"))
    for key, window in (("policy_period", rules.policy_period), ("pass_date_window", rules.pass_date_window)):
        if window.start and window.end and window.end < window.start:
            problems.append(src.problem(prefix + (key, "end"), f"{key} ends ({window.end}) before it starts "
                                        f"({window.start})", "correct the dates"))
    pw, pp = rules.pass_date_window, rules.policy_period
    if pw.start and pp.end and pw.start > pp.end or pw.end and pp.start and pw.end < pp.start:
        problems.append(src.problem(prefix + ("pass_date_window",), "pass_date_window lies outside the policy period",
                                    "make the window overlap policy_period"))
    if c.scope == "calendar_year" and not (pp.start and pp.end):
        problems.append(src.problem(prefix + ("ceiling", "scope"), "a per-year ceiling needs a policy period",
                                    "set policy_period.start and .end"))
    if rules.min_os_version and not re.match(r"^\d+(\.\d+){0,3}$", rules.min_os_version):
        problems.append(src.problem(prefix + ("min_os_version",), f"{rules.min_os_version!r} is not a version",
                                    "write it like 4.1 or 5.0.0"))
    if rules.product_types:
        from tracker.models import PRODUCT_TYPES

        for i, product_type in enumerate(rules.product_types):
            if product_type not in PRODUCT_TYPES:
                problems.append(src.problem(prefix + ("product_types", i), f"unknown product type {product_type!r}",
                                            f"use one of {', '.join(PRODUCT_TYPES)}"))
