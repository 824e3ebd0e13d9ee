"""The formal check (形式审查): `config/rounds.yaml`, and the items the tool can decide from the database.

Published procedures make the formal check a strict gate: what was not filed as required fails. The office records a
verdict per candidate; the automatic items below are evaluated at that moment and stored with it, and a candidate
failing any of them cannot be passed (the office fails it with a reason). Items only a person can judge (sealed
application, paginated copy) are listed in `manual:` and shown with every check.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# OSI-approved licences most used in China's open-source projects, and the 木兰 (Mulan) licences, as SPDX ids
DEFAULT_LICENCES = (
    "Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Zlib", "0BSD", "MPL-2.0", "EPL-2.0",
    "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later",
    "LGPL-3.0-only", "LGPL-3.0-or-later", "AGPL-3.0-only", "AGPL-3.0-or-later", "MulanPSL-2.0", "MulanPubL-2.0",
)


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    licences: list[str] = Field(default_factory=lambda: list(DEFAULT_LICENCES),
                                description="SPDX ids accepted: every repository whose platform reports a licence "
                                            "must have one of these, and at least one repository must report one")
    chongqing_applicant: bool = Field(True, description="the applicant (--enterprise USCC) is an enterprise of the "
                                                        "ledger registered in Chongqing")
    max_applications_per_applicant: int = Field(3, ge=1, description="applications one applicant may file per round")
    dishonest: list[str] = Field(default_factory=list, description="USCCs on 信用中国(重庆)'s 失信 list")
    manual: list[str] = Field(default_factory=list, description="items the office checks by hand")


class Integrity(BaseModel):
    """Thresholds of the integrity flags (tracker/rounds/integrity.py): shown to the committee, never a score.

    Days are Beijing days ending at the round's cutoff; a flag is raised only when its measure is strictly above the
    threshold, so a measure exactly at it does not flag."""

    model_config = ConfigDict(extra="forbid")

    window_days: int = Field(365, ge=2, description="the baseline window (12 months): the weekly average the burst is "
                                                     "compared with, and the commits the newcomer share is taken of")
    burst_days: int = Field(60, ge=1, description="the recent window whose weekly commit rate is compared")
    burst_ratio: float = Field(3.0, gt=0, description="flag when the recent weekly rate is above this many times "
                                                      "the baseline weekly average")
    newcomer_days: int = Field(90, ge=1, description="people whose first counted commit in the community, ever, "
                                                     "falls in these last days are newcomers")
    newcomer_share: float = Field(0.3, gt=0, lt=1, description="flag when newcomers made more than this share of "
                                                               "the baseline window's commits")
    star_days: int = Field(30, ge=1, description="stars now compared with the stars this many days before the cutoff")
    star_ratio: float = Field(5.0, gt=1, description="flag when stars grew to more than this many times")
    star_from_zero: int = Field(20, ge=1, description="with no stars at the start, the ratio is taken against one "
                                                      "star and the flag also needs at least this many stars now")

    @model_validator(mode="after")
    def _inside_the_window(self):
        for key in ("burst_days", "newcomer_days"):
            if getattr(self, key) >= self.window_days:
                raise ValueError(f"{key} ({getattr(self, key)}) must be shorter than window_days ({self.window_days})")
        return self


class RoundsFile(BaseModel):
    model_config = ConfigDict(extra="allow")  # part 2 may add sections of its own

    checklist: Checklist = Field(default_factory=Checklist)
    integrity: Integrity = Field(default_factory=Integrity)


class RoundsConfigError(ValueError):
    pass


def load_rounds_config(config_dir: Path) -> RoundsFile:
    """config/rounds.yaml, or the defaults when the file is absent; errors name the key and the fix."""
    from tracker.yamlsource import load_yaml

    path = Path(config_dir) / "rounds.yaml"
    if not path.exists():
        return RoundsFile()
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))[0] or {}
    except Exception as exc:
        raise RoundsConfigError(f"{path}: 不是有效的 YAML / not valid YAML ({exc}); fix the syntax there") from None
    try:
        return RoundsFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RoundsConfigError(f"{path}: {where}: {first['msg']}. Fix: see docs/rounds.md for the format") from None


@dataclass(frozen=True)
class Item:
    key: str
    label_zh: str
    passed: bool | None  # None: a manual item (the office's judgement)
    detail: str

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label_zh, "passed": self.passed, "detail": self.detail}


def evaluate(checklist: Checklist, *, licences: list[tuple[str, str | None]], uscc: str | None,
             enterprise: tuple[str, bool] | None, applications: int) -> list[Item]:
    """The automatic items for one candidate.

    licences: (repository, SPDX id or None) of the community's repositories; enterprise: (name, registered in
    Chongqing) of the applicant found by USCC in the ledger, or None; applications: this applicant's in the round.
    """
    items = []
    known = [(repo, lic) for repo, lic in licences if lic]
    bad = [f"{repo} ({lic})" for repo, lic in known if lic not in checklist.licences]
    if bad:
        items.append(Item("licence", "OSI 批准或木兰许可证", False, "不在清单中 / not accepted: " + ", ".join(bad)))
    elif not known:
        items.append(Item("licence", "OSI 批准或木兰许可证", False,
                          "没有仓库报告许可证 / no repository reports a licence"))
    else:
        items.append(Item("licence", "OSI 批准或木兰许可证", True, ", ".join(sorted({lic for _, lic in known}))))
    if checklist.chongqing_applicant:
        if not uscc:
            items.append(Item("chongqing_applicant", "重庆注册的申报单位", False,
                              "未提供统一社会信用代码 / no USCC given (mtx rounds apply --enterprise USCC)"))
        elif enterprise is None:
            items.append(Item("chongqing_applicant", "重庆注册的申报单位", False,
                              f"企业台账中没有 {uscc} / {uscc} is not an enterprise of the ledger"))
        else:
            name, local = enterprise
            items.append(Item("chongqing_applicant", "重庆注册的申报单位", local,
                              f"{name}: {'重庆注册 / registered in Chongqing' if local else '非重庆注册 / not registered in Chongqing'}"))
    listed = bool(uscc) and uscc in set(checklist.dishonest)
    items.append(Item("not_dishonest", "不在失信名单", not listed,
                      "在失信名单中 / on the dishonesty list" if listed else "—"))
    limit = checklist.max_applications_per_applicant
    items.append(Item("applications", f"每个申报单位至多 {limit} 项", applications <= limit,
                      f"本轮 {applications} 项 / {applications} in this round"))
    items += [Item(f"manual:{n}", text, None, "人工审查 / checked by the office") for n, text in
              enumerate(checklist.manual, start=1)]
    return items
