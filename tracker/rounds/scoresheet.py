"""One expert's score sheet (评分表): written for them, read back whole.

The sheet 评分表 has the expert's candidates (passed the formal check, no conflict declared) as rows and each expert_*
signal of the round's model as a column, its scale in the header (mantianxing: 0-5), then a comment column; the sheet
定量信号（参考） has the frozen quantitative signals for reference; 说明 names the round and the expert. Importing
**replaces** that expert's scores in the round. Every bad cell is reported by sheet, row (as Excel numbers it) and
column, with the fix, and nothing is written while any problem remains: the certificate importer's reader (limits,
hidden sheets, neutralised cells) and report format (tracker/ledger/reading.py, report.py).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import Actor
from tracker.ledger.reading import FileUnreadable, file_sha256, open_sheet
from tracker.ledger.report import ImportIssue, ImportReport
from tracker.ledger.schema import ImportLimits
from tracker.models import Community, ExpertScore, RoundCandidate, RoundConflict, SignalValue, utcnow
from tracker.rounds import lifecycle as L

SCORES_SHEET = "评分表"
SIGNALS_SHEET = "定量信号（参考）"
ABOUT_SHEET = "说明"
COMMUNITY = "社区代号 community"
NAME = "社区名称 name"
APPLICANT = "申报单位 applicant"
COMMENT = "评语 comment"
_SIGNAL_IN_HEADER = re.compile(r"\b(expert_[a-z0-9_]+)\b")


@dataclass(frozen=True)
class Row:
    candidate: RoundCandidate
    slug: str
    name: str


def _rows(session: Session, round_, expert: str) -> tuple[list[Row], set[str], dict[str, RoundCandidate]]:
    """(the expert's candidates, the slugs they are conflicted on, every candidate of the round by slug)."""
    every = {slug: c for c, slug in L._candidates(session, round_)}
    conflicted = set(session.scalars(select(Community.slug).join(RoundCandidate,
                                                                 RoundCandidate.community_id == Community.id)
                                     .join(RoundConflict, RoundConflict.candidate_id == RoundCandidate.id)
                                     .where(RoundConflict.round_id == round_.id, RoundConflict.expert == expert)))
    names = dict(session.execute(select(Community.slug, Community.name_zh)
                                 .where(Community.slug.in_(list(every) or [""]))).all())
    rows = [Row(c, slug, names.get(slug, slug)) for slug, c in every.items()
            if c.check_status == "passed" and slug not in conflicted]
    return rows, conflicted, every


def scale_text(signal) -> str:
    return f"0–{signal.threshold:g}"


def header_for(signal) -> str:
    return f"{signal.label_zh} {signal.name} ({scale_text(signal)})"


def write_scoresheet(session: Session, actor: Actor, round_, expert: str, path: str | Path) -> Path:
    """The expert's sheet, as an XLSX at ``path`` (whole or not at all); their current scores filled in."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from tracker.spreadsheet import append_row, atomic_output, check_output_path

    L.require_office_or_expert(session, actor, round_, expert, "导出评分表 / write a score sheet")
    L._need(round_, "frozen", action="导出评分表 / write a score sheet")
    if not L._is_expert(session, round_, expert):
        L._refuse(f"{expert} 不在本轮专家组中", f"{expert} is not on round {round_.id}'s panel")
    path = check_output_path(path, (".xlsx",), "评分表 / score sheet")
    model = L.round_model(round_)
    signals = L.expert_signals(model)
    rows, conflicted, _ = _rows(session, round_, expert)
    existing = {(s.candidate_id, s.signal): s for s in session.scalars(
        select(ExpertScore).where(ExpertScore.expert == expert,
                                  ExpertScore.candidate_id.in_([r.candidate.id for r in rows] or [-1])))}
    with atomic_output(path) as temporary:
        wb = Workbook()
        ws = wb.active
        ws.title = SCORES_SHEET
        append_row(ws, [COMMUNITY, NAME, APPLICANT, *[header_for(s) for s in signals], COMMENT])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in rows:
            comments = {existing[(r.candidate.id, s.name)].comment for s in signals
                        if (r.candidate.id, s.name) in existing and existing[(r.candidate.id, s.name)].comment}
            append_row(ws, [r.slug, r.name, r.candidate.applicant or "",
                            *[existing[(r.candidate.id, s.name)].score if (r.candidate.id, s.name) in existing
                              else None for s in signals], "；".join(sorted(comments))])
        ws.freeze_panes = "D2"
        for index, width in enumerate([22, 30, 30, *[24] * len(signals), 60]):
            ws.column_dimensions[chr(ord("A") + index)].width = width
        reference = wb.create_sheet(SIGNALS_SHEET)
        quantitative = [s for s in model.signals if not s.name.startswith("expert_")]
        append_row(reference, [COMMUNITY, *[f"{s.label_zh} {s.name}" for s in quantitative]])
        frozen = {(v.candidate_id, v.signal): v for v in session.scalars(
            select(SignalValue).where(SignalValue.candidate_id.in_([r.candidate.id for r in rows] or [-1])))}
        for r in rows:
            append_row(reference, [r.slug, *[_frozen_text(frozen.get((r.candidate.id, s.name))) for s in quantitative]])
        about = wb.create_sheet(ABOUT_SHEET)
        for line in (("轮次 round", f"{round_.id} {round_.year}/{round_.name}"), ("专家 expert", expert),
                     ("模型 model", f"{round_.model_name} sha256 {round_.model_hash}"),
                     ("数据截止 cutoff", round_.data_cutoff.isoformat()),
                     ("回避 conflicts", "、".join(sorted(conflicted)) or "—"),
                     ("填写 how", "每个 expert_* 列填一个分数（刻度见表头），可留空；导入会整体替换本人在本轮的评分 / one "
                                  "rating per expert_* column on the scale in its header; importing replaces all "
                                  "your scores in this round")):
            append_row(about, line)
        wb.save(temporary)
    audit.record(session, actor, "round.scoresheet", "round", str(round_.id), None,
                 {"expert": expert, "candidates": [r.slug for r in rows]})
    return path


def _frozen_text(value: SignalValue | None):
    if value is None:
        return "—"
    if value.value is None:
        return f"— ({value.reason})"
    return value.value


@dataclass
class ScoreImportReport(ImportReport):
    scores: int = 0
    candidates: int = 0
    replaced: int = 0

    def headline(self) -> str:
        if self.errors:
            return (f"评分表未导入，未写入任何数据：工作表「{self.sheet}」有 {len(self.errors)} 个错误 / score sheet "
                    f"refused, nothing written: {len(self.errors)} error(s) in sheet {self.sheet}")
        verb, verb_en = ("试导入（未写入）", "dry run, nothing written") if self.dry_run else ("已导入", "imported")
        return (f"{verb} / {verb_en}: {self.candidates} 个申报 candidates, {self.scores} 个评分 scores "
                f"(替换原有 replacing {self.replaced})")

    def summary(self) -> dict:
        return {"file": self.file, "sheet": self.sheet, "rows": self.rows, "errors": len(self.errors),
                "scores": self.scores, "candidates": self.candidates, "replaced": self.replaced,
                "dry_run": self.dry_run, "written": self.written}


def _number(value) -> float | None:
    """A rating cell: None when empty; a float; ValueError for text that is not a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        number = float(str(value).strip().replace("，", "."))
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def check_rating(signal, raw) -> tuple[float | None, tuple[str, str, str] | None]:
    """(the rating, or None when left empty; the problem as (code, message, fix), or None). The sheet and the app's
    score form check every cell with this."""
    try:
        value = _number(raw)
    except ValueError:
        return None, ("cell.not_a_number", "不是数字 / not a number",
                      f"填 {scale_text(signal)} 之间的数字，或留空 / a number on {scale_text(signal)}, or leave it empty")
    if value is not None and not 0 <= value <= signal.threshold:
        return None, ("cell.out_of_range", f"超出刻度 {scale_text(signal)} / outside the scale {scale_text(signal)}",
                      f"填 0 到 {signal.threshold:g} 之间的数 / use a number from 0 to {signal.threshold:g}")
    return value, None


def import_scores(session: Session, actor: Actor, round_, expert: str, path: str | Path, dry_run: bool = False,
                  limits: ImportLimits | None = None) -> ScoreImportReport:
    """Read the expert's sheet and replace their scores in the round; nothing is written on any problem."""
    L.require_office_or_expert(session, actor, round_, expert, "导入评分 / import scores")
    L._need(round_, "frozen", action="导入评分 / import scores")
    if not L._is_expert(session, round_, expert):
        L._refuse(f"{expert} 不在本轮专家组中", f"{expert} is not on round {round_.id}'s panel")
    report = ScoreImportReport(file=str(path), sheet=SCORES_SHEET, dry_run=dry_run)
    model = L.round_model(round_)
    signals = {s.name: s for s in L.expert_signals(model)}
    rows, conflicted, every = _rows(session, round_, expert)
    mine = {r.slug: r for r in rows}
    wanted: list[tuple[RoundCandidate, str, float, str | None]] = []
    seen: dict[str, int] = {}

    def problem(row: int, column: str, value, code: str, message: str, fix: str) -> None:
        report.issues.append(ImportIssue(row, column, "" if value is None else str(value), code, message, fix))

    try:
        with open_sheet(path, limits or ImportLimits(), sheet=SCORES_SHEET) as sheet:
            headers = sheet.headers
            columns: dict[int, str] = {}
            slug_at = comment_at = None
            for index, header in enumerate(headers):
                found = _SIGNAL_IN_HEADER.search(header or "")
                if header == COMMUNITY:
                    slug_at = index
                elif header == COMMENT:
                    comment_at = index
                elif header in (NAME, APPLICANT):
                    continue
                elif found and found.group(1) in signals:
                    columns[index] = found.group(1)
                else:
                    problem(1, header or f"(第 {index + 1} 列)", header, "sheet.unknown_column",
                            f"未知的列 / unknown column {header!r}",
                            "删去该列；评分列只能是模型的 expert_* 信号 / remove it: rating columns are the model's "
                            f"expert_* signals ({', '.join(signals)})")
            if slug_at is None:
                problem(1, COMMUNITY, None, "sheet.no_community_column", "缺少社区代号列 / no community column",
                        f"第 1 行须有「{COMMUNITY}」列；用 mtx rounds scoresheet 生成 / row 1 needs a {COMMUNITY!r} "
                        "column: start from mtx rounds scoresheet")
            for name in signals:
                if name not in columns.values():
                    problem(1, name, None, "sheet.missing_column", f"缺少评分列 / no column for {name}",
                            f"加上「{header_for(signals[name])}」列 / add the column {header_for(signals[name])!r}")
            for number, cells in sheet.rows:
                report.rows += 1
                if slug_at is None:
                    continue
                cells = list(cells) + [None] * (len(headers) - len(cells))
                slug = str(cells[slug_at] or "").strip()
                ratings = {name: cells[i] for i, name in columns.items()}
                comment = str(cells[comment_at]).strip() if comment_at is not None and cells[comment_at] else None
                filled = any(_filled(v) for v in ratings.values()) or bool(comment)
                if slug in seen:
                    problem(number, COMMUNITY, slug, "row.duplicate", f"与第 {seen[slug]} 行重复 / repeats row "
                            f"{seen[slug]}", "每个社区只保留一行 / keep one row per community")
                    continue
                seen[slug] = number
                if slug in conflicted:
                    if filled:
                        problem(number, COMMUNITY, slug, "row.conflicted",
                                f"已申报回避，不能为 {slug} 评分 / you withdrew from {slug} (回避)",
                                "清空这一行或删去它 / empty this row or remove it")
                    continue
                if slug not in mine:
                    if slug in every:
                        why = ("未通过形式审查 / failed the formal check" if every[slug].check_status == "failed"
                               else "不在评审范围 / not to be scored")
                    else:
                        why = "不是本轮的申报 / not a candidate of this round"
                    problem(number, COMMUNITY, slug, "row.not_yours", f"{slug}：{why}",
                            "只为评分表中给出的社区评分 / score only the communities your sheet lists")
                    continue
                for index, name in columns.items():
                    raw = cells[index]
                    value, bad = check_rating(signals[name], raw)
                    if bad:
                        problem(number, headers[index], raw, *bad)
                    elif value is not None:
                        wanted.append((mine[slug].candidate, name, value, comment))
    except FileUnreadable as exc:
        problem(0, "", "", exc.code, str(exc), exc.fix)
    report.scores = len(wanted)
    report.candidates = len({c.id for c, *_ in wanted})
    ids = [c.id for c in every.values()]
    current = session.scalars(select(ExpertScore).where(ExpertScore.expert == expert,
                                                        ExpertScore.candidate_id.in_(ids or [-1]))).all()
    report.replaced = len(current)
    if report.errors or dry_run:
        return report
    before = sorted((c.candidate_id, c.signal, c.score) for c in current)
    session.execute(delete(ExpertScore).where(ExpertScore.expert == expert, ExpertScore.candidate_id.in_(ids or [-1])))
    source = f"sheet:{file_sha256(path)[:40]}"
    now = utcnow()
    for candidate, name, value, comment in wanted:
        session.add(ExpertScore(candidate_id=candidate.id, expert=expert, signal=name, score=value, comment=comment,
                                source=source, created_at=now))
    session.flush()
    audit.record(session, actor, "round.import_scores", "round", str(round_.id),
                 {"expert": expert, "scores": before},
                 {"expert": expert, "file": Path(path).name, "source": source,
                  "scores": sorted((c.id, n, v) for c, n, v, _ in wanted)})
    report.written = True
    return report


def _filled(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())
