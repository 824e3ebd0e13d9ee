"""What the app's 评审轮次 page needs beyond the lifecycle steps: results, objections, the round's files as bytes, the
configured freeze. Every function checks the actor; the page only draws what these return."""
from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import vocab
from tracker.access import Actor, require_role
from tracker.models import Community, RoundObjection
from tracker.rounds import lifecycle as L

NEXT_STEP = {  # status -> (the step that moves the round on, its label)
    "draft": ("open", "开放申报"),
    "open": ("close_check", "结束形式审查"),
    "checked": ("freeze", "冻结数据"),
    "frozen": ("close_scoring", "结束评分"),
    "scored": ("decide", "记录集体研究决定"),
    "decided": ("publicise", "开始公示"),
    "publicised": ("finalise", "定稿"),
}


def round_results(session: Session, actor: Actor, round_) -> dict:
    """`mtx rounds results --json` for the page: provisional from frozen, final from scored."""
    from tracker.rounds.results import compute_results, results_json

    require_role(actor, "admin", action="see a round's results")
    L._need(round_, "frozen", "scored", "decided", "publicised", "final", action="查看结果 / see results")
    return results_json(round_, compute_results(session, round_))


def round_state(session: Session, actor: Actor, round_) -> dict:
    """The office's view of a round: status, panel, applications with their check and integrity flags, coverage."""
    from tracker.models import RoundExpert

    require_role(actor, "admin", action="manage an evaluation round")
    return {"status": round_.status,
            "experts": list(session.scalars(select(RoundExpert.expert).where(RoundExpert.round_id == round_.id)
                                            .order_by(RoundExpert.expert))),
            "candidates": [(c.check_status, slug, c.applicant, c.check_reason, c.integrity_flags)
                           for c, slug in L._candidates(session, round_)],
            "coverage": L.scoring_coverage(session, round_) if round_.status in ("frozen", "scored") else []}


def objections(session: Session, actor: Actor, round_) -> list[dict]:
    require_role(actor, "admin", action="see a round's objections")
    return [{"id": o.id, "objector": o.objector, "unit": o.unit, "text": o.text, "evidence": o.evidence_name,
             "received_at": o.received_at, "status": o.status, "status_label": vocab.OBJECTION_STATUSES.zh(o.status),
             "resolution": o.resolution}
            for o in session.scalars(select(RoundObjection).where(RoundObjection.round_id == round_.id)
                                     .order_by(RoundObjection.id))]


def communities(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(slug, name) of every community, for the application form."""
    require_role(actor, "admin", action="record an application")
    return [tuple(r) for r in session.execute(select(Community.slug, Community.name_zh).order_by(Community.slug))]


def freeze_configured(session: Session, actor: Actor, round_, config_dir: str | Path) -> int:
    """`mtx rounds freeze`: the staleness rule of communities.yaml and the integrity thresholds of rounds.yaml."""
    from tracker.config import stale_after_days
    from tracker.rounds.checklist import load_rounds_config

    config_dir = Path(config_dir)
    integrity = load_rounds_config(config_dir).integrity
    return L.freeze(session, actor, round_, stale_after_days=stale_after_days(config_dir / "communities.yaml"),
                    integrity=integrity)


def _as_bytes(write, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="mtx-") as folder:
        path = Path(folder) / f"out{suffix}"
        write(path)
        return path.read_bytes()


def scoresheet_bytes(session: Session, actor: Actor, round_, expert: str) -> bytes:
    from tracker.rounds.scoresheet import write_scoresheet

    return _as_bytes(lambda p: write_scoresheet(session, actor, round_, expert, p), ".xlsx")


def public_list_bytes(session: Session, actor: Actor, round_) -> bytes:
    from tracker.rounds.export import write_public_list

    return _as_bytes(lambda p: write_public_list(session, actor, round_, p), ".xlsx")


def workbook_bytes(session: Session, actor: Actor, round_) -> bytes:
    from tracker.rounds.export import write_workbook

    return _as_bytes(lambda p: write_workbook(session, actor, round_, p), ".xlsx")


def with_upload(name: str, data: bytes, use):
    """Run ``use(path)`` on an uploaded file written to a private temporary folder under its own (base) name, so the
    stored record names the file the user chose."""
    safe = Path(name or "upload").name[:200] or "upload"
    with tempfile.TemporaryDirectory(prefix="mtx-upload-") as folder:
        path = Path(folder) / safe
        path.write_bytes(data)
        return use(path)


RESULT_STATUSES = ("frozen", "scored", "decided", "publicised", "final")


def rankable_rounds(session: Session, actor: Actor) -> list[dict]:
    """Rounds whose results this actor may rank: administrators from the freeze on (provisional until scored);
    evaluators on the rounds they are on, once scoring has closed (before that an expert sees only their own)."""
    from tracker.rounds.summary import list_rounds

    wanted = RESULT_STATUSES if actor.role == "admin" else RESULT_STATUSES[1:]
    return [r for r in list_rounds(session, actor) if r["status"] in wanted]


def ranking_results(session: Session, actor: Actor, round_) -> dict:
    """A round's results for the ranking page, with each candidate's name and focus field."""
    from tracker.rounds.results import compute_results, results_json

    if round_.id not in {r["id"] for r in rankable_rounds(session, actor)}:
        L._refuse("您不能查看该轮次的结果", f"round {round_.id}'s results are not open to {actor.name} "
                  "(administrators from the freeze; experts of the round once scoring has closed)")
    data = results_json(round_, compute_results(session, round_))
    slugs = [r["community"] for r in data["results"]]
    about = {slug: (name, focus) for slug, name, focus in session.execute(
        select(Community.slug, Community.name_zh, Community.focus).where(Community.slug.in_(slugs or [""])))}
    for r in data["results"]:
        r["name"], r["focus"] = about.get(r["community"], (r["community"], None))
    return data


def results_xlsx(data: dict) -> bytes:
    """A round's ranking as an XLSX (every text cell a string cell, never a formula)."""
    import io

    from openpyxl import Workbook

    from tracker.spreadsheet import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = "评审排名"
    head = data["round"]
    append_row(ws, ["轮次", f"{head['id']} {head['year']}/{head['name']}",
                    "暂定结果" if head["provisional"] else vocab.ROUND_STATUSES.zh(head["status"])])
    append_row(ws, ["排名", "社区", "名称", "领域", "总分", "定量", "专家", "覆盖率", "状态", "金额（元）", "说明"])
    for r in data["results"]:
        append_row(ws, [r["rank"], r["community"], r["name"], vocab.FOCUS_FIELDS.zh(r["focus"]), r["total"],
                        r["quantitative"], r["expert_points"], r["coverage"], vocab.SCORE_STATUSES.zh(r["status"]),
                        r["amount"], r["reason"] or ""])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
