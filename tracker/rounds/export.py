"""A round's files: the public list (公示名单) and the committee's workbook (评审记录), every cell neutralised.

Both are written from what the round stored (frozen signals, scores, conflicts, allocation, decision, objections)
through tracker.rounds.results, so exporting the same round twice gives the same cell values.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import vocab
from tracker.access import Actor, require_role
from tracker.models import AuditEntry, ExpertScore, RoundConflict, RoundExpert, RoundObjection, RoundResult
from tracker.rounds import lifecycle as L
from tracker.rounds.results import compute_results

PUBLIC_HEADERS = ("排名 rank", "社区 community", "社区名称 name", "申报单位 applicant", "总分 total", "拟奖励金额（元）amount")


def public_rows(session: Session, round_) -> list[tuple]:
    """The ranked candidates with their decided amounts (rank order)."""
    names = dict(session.execute(select(L.Community.slug, L.Community.name_zh)).all())
    decimals = L.round_model(round_).decimals
    return [(r.rank, r.community, names.get(r.community, r.community), r.applicant or "",
             None if r.total is None else round(r.total, decimals), r.amount or 0)
            for r in compute_results(session, round_) if r.status == "ranked"]


def write_public_list(session: Session, actor: Actor, round_, path: str | Path) -> Path:
    """公示名单: rank, community, applicant, total, amount; XLSX, or CSV with a BOM (Excel shows the Chinese)."""
    from tracker.spreadsheet import append_row, atomic_output, check_output_path, write_csv_rows

    require_role(actor, "admin", action="export a round's public list")
    L._need(round_, "decided", "publicised", "final", action="导出公示名单 / export the public list")
    path = check_output_path(path, (".xlsx", ".csv"), "公示名单 / public list")
    rows = public_rows(session, round_)
    with atomic_output(path) as temporary:
        if path.suffix.lower() == ".csv":
            with temporary.open("w", encoding="utf-8-sig", newline="") as fh:
                write_csv_rows(fh, [PUBLIC_HEADERS, *rows])
        else:
            from openpyxl import Workbook

            wb = Workbook()
            ws = wb.active
            ws.title = "公示名单"
            append_row(ws, PUBLIC_HEADERS)
            for row in rows:
                append_row(ws, row)
            wb.save(temporary)
    return path


def write_workbook(session: Session, actor: Actor, round_, path: str | Path) -> Path:
    """评审记录 (administrators): checklist verdicts, experts and conflicts, every rating, results with flags,
    allocation, decision and changes, objections and outcomes; one sheet each."""
    from openpyxl import Workbook

    from tracker.spreadsheet import append_row, atomic_output, check_output_path

    require_role(actor, "admin", action="export a round's committee workbook")
    L._need(round_, "scored", "decided", "publicised", "final", action="导出评审记录 / export the workbook")
    path = check_output_path(path, (".xlsx",), "评审记录 / workbook")
    candidates = L._candidates(session, round_)
    slug_of = {c.id: slug for c, slug in candidates}
    results = compute_results(session, round_)
    sheets: list[tuple[str, tuple, list[tuple]]] = []
    sheets.append(("形式审查", ("社区 community", "申报单位 applicant", "统一社会信用代码 USCC", "结论 verdict", "原因 reason",
                               "审查人 by", "审查项 items"),
                   [(slug, c.applicant or "", c.enterprise_uscc or "", vocab.CHECK_STATUSES.zh(c.check_status),
                     c.check_reason or "", c.checked_by or "",
                     "；".join(f"{i['label']}:{'通过' if i['passed'] else ('不通过' if i['passed'] is False else '人工')}"
                              for i in (c.check_items or {}).get("items", [])))
                    for c, slug in candidates]))
    experts = session.scalars(select(RoundExpert).where(RoundExpert.round_id == round_.id)
                              .order_by(RoundExpert.expert)).all()
    conflicts = session.scalars(select(RoundConflict).where(RoundConflict.round_id == round_.id)
                                .order_by(RoundConflict.expert, RoundConflict.candidate_id)).all()
    sheets.append(("专家与回避", ("专家 expert", "加入 added by", "回避社区 conflict with", "原因 reason", "登记人 declared by"),
                   [(e.expert, e.added_by or "", "", "", "") for e in experts] +
                   [(c.expert, "", slug_of.get(c.candidate_id, ""), c.reason, c.declared_by or "") for c in conflicts]))
    scores = session.scalars(select(ExpertScore).where(ExpertScore.candidate_id.in_(list(slug_of) or [-1]))
                             .order_by(ExpertScore.candidate_id, ExpertScore.expert, ExpertScore.signal)).all()
    sheets.append(("专家评分", ("社区 community", "专家 expert", "信号 signal", "评分 rating", "评语 comment"),
                   [(slug_of[s.candidate_id], s.expert, s.signal, s.score, s.comment or "") for s in scores]))
    decimals = L.round_model(round_).decimals
    expert_names = [s.name for s in L.expert_signals(L.round_model(round_))]
    sheets.append(("汇总结果", ("排名 rank", "社区 community", "状态 status", "总分 total", "定量 quantitative",
                               "专家 expert", "覆盖 coverage", *[f"{n} (汇总/人数/分歧)" for n in expert_names],
                               "提示 flags", "说明 reason"),
                   [(r.rank, r.community, vocab.SCORE_STATUSES.zh(r.status),
                     None if r.total is None else round(r.total, decimals), round(r.quantitative, decimals),
                     round(r.expert_points, decimals), round(r.coverage, 4),
                     *[_rating(r.expert.get(n)) for n in expert_names],
                     "；".join(f.get("detail", f.get("code", "")) for f in r.flags), r.reason or "")
                    for r in results]))
    allocation = round_.allocation or {}
    stored = {row.candidate_id: row for row in session.scalars(select(RoundResult)
                                                               .where(RoundResult.round_id == round_.id))}
    sheets.append(("资金分配与集体研究", ("社区 community", "排名 rank", "规则金额 allocated", "决定金额 decided",
                                      "调整原因 reason"),
                   [(slug_of[cid], row.rank, row.recommended_amount or 0, row.decided_amount or 0,
                     row.decision_reason or "") for cid, row in sorted(stored.items(),
                                                                        key=lambda kv: (kv[1].rank is None,
                                                                                        kv[1].rank or 0))]
                   + [("规则 rule", allocation.get("rule") or "", allocation.get("allocated") or 0,
                       allocation.get("rest") or 0, "；".join(allocation.get("notes") or []))]
                   + [("会议纪要 minutes", "", "", "", f"{round_.minutes_name or ''} sha256 {round_.minutes_sha256 or ''}")]))
    objections = session.scalars(select(RoundObjection).where(RoundObjection.round_id == round_.id)
                                 .order_by(RoundObjection.id)).all()
    sheets.append(("异议", ("编号 id", "异议人 objector", "单位 unit", "联系方式 contact", "内容 text", "证明材料 evidence",
                          "结果 outcome", "理由 reason"),
                   [(o.id, o.objector, o.unit, o.contact, o.text, f"{o.evidence_name} sha256 {o.evidence_sha256}",
                     vocab.OBJECTION_STATUSES.zh(o.status), o.resolution or "") for o in objections]))
    from sqlalchemy import or_

    steps = session.scalars(select(AuditEntry).where(AuditEntry.entity.in_(("round", "round_candidate")),
                                                     or_(AuditEntry.entity_key == str(round_.id),
                                                         AuditEntry.entity_key.like(f"{round_.id}:%")))
                            .order_by(AuditEntry.id)).all()
    sheets.append(("过程记录", ("时间 at (UTC)", "操作人 actor", "操作 action", "对象 key"),
                   [(a.at.isoformat(timespec="seconds"), a.actor, a.action, a.entity_key or "") for a in steps]))
    with atomic_output(path) as temporary:
        wb = Workbook()
        wb.remove(wb.active)
        for title, headers, rows in sheets:
            ws = wb.create_sheet(title)
            append_row(ws, headers)
            for row in rows:
                append_row(ws, row)
        wb.save(temporary)
    return path


def _rating(value) -> str:
    if value is None or value.value is None:
        return "—"
    return f"{value.value:.2f} / {value.experts}" + (" / 分歧大" if value.flagged else "")
