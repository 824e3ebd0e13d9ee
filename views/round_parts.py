"""The 评审轮次 page's two halves: the expert's score entry and the office's lifecycle. Every change goes through a
tracker function with the signed-in actor in one transaction; a refusal is shown in Chinese and nothing is written."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from tracker import vocab
from tracker.formatting import beijing_today, when, yuan
from tracker.rounds import lifecycle as L
from tracker.rounds import office
from tracker.rounds.checklist import RoundsConfigError, load_rounds_config
from tracker.rounds.scoreform import expert_sheet, save_candidate_scores
from views.actions import REFUSALS, confirm, open_question, run_step, say, unsay
from views.common import config_dir, session

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- shared ---------------------------------------------------------------------------------------------------------

def act(round_id: int | None, step, done):
    """Run ``step(session, round)`` in one transaction (views.actions.run_step)."""
    return run_step(lambda s: step(s, L.get_round(s, round_id) if round_id is not None else None), done,
                    (RoundsConfigError,))


def _confirm(text: str, round_id: int | None, step, done) -> None:
    confirm(text, lambda s: step(s, L.get_round(s, round_id) if round_id is not None else None), done,
            (RoundsConfigError,))


def status_steps(status: str) -> None:
    order = vocab.ROUND_STATUSES.values
    at = order.index(status)
    st.markdown(" → ".join(f"**{vocab.ROUND_STATUSES.zh(s)}**" if n == at else
                           (vocab.ROUND_STATUSES.zh(s) if n < at else f":gray[{vocab.ROUND_STATUSES.zh(s)}]")
                           for n, s in enumerate(order)))


# --- the expert -----------------------------------------------------------------------------------------------------

def _frozen_table(sheet, candidate) -> pd.DataFrame:
    rows = []
    for name, label in sheet.quantitative:
        value, reason = candidate.frozen.get(name, (None, "未冻结"))
        rows.append({"信号": label, "代号": name, "冻结值": "—" if value is None else f"{value:g}",
                     "说明": "" if value is not None else f"不可用：{reason or '无数据'}"})
    return pd.DataFrame(rows)


def expert_section(actor, round_id: int, expert: str | None = None) -> None:
    expert = expert or actor.name
    with session() as s:
        sheet = expert_sheet(s, actor, L.get_round(s, round_id), expert)
    st.subheader("我的评审" if expert == actor.name else f"专家 {expert} 的评审")
    total = sheet.to_score
    st.progress(sheet.done / total if total else 1.0, text=f"已完成 {sheet.done}/{total} 个申报的评分"
                + (f"（另有 {len(sheet.candidates) - total} 个回避）" if len(sheet.candidates) > total else ""))
    if not sheet.editable:
        st.info(f"本轮当前为「{sheet.status_label}」：" + ("数据冻结后开放评分。" if sheet.status in
                                                          ("draft", "open", "checked") else "评分已结束，只能查看。"))
    scale = "；".join(f"{s.label_zh} {s.scale}（权重 {s.weight:g}）" for s in sheet.signals)
    st.caption(f"评分项：{scale}。留空表示未评；保存会替换您对该社区的全部评分。")
    for c in sheet.candidates:
        badge = "回避" if c.conflicted else ("已完成" if c.complete else "待评分")
        with st.expander(f"{c.name}（{c.slug}）· {badge}"):
            if c.conflicted:
                st.warning(f"回避：{c.conflict_reason or '已申报回避'}。您不能为该社区评分。")
                continue
            st.caption(f"申报单位：{c.applicant or '—'}")
            with st.form(f"score-{round_id}-{c.slug}"):
                values = {}
                for sig in sheet.signals:
                    values[sig.name] = st.number_input(
                        f"{sig.label_zh}（{sig.scale}）", min_value=0.0, max_value=sig.threshold, step=0.5,
                        value=c.scores[sig.name], help=sig.description, disabled=not sheet.editable,
                        key=f"rate-{round_id}-{c.slug}-{sig.name}")
                comment = st.text_area("评语", value=c.comment or "", disabled=not sheet.editable,
                                       key=f"comment-{round_id}-{c.slug}")
                saved = st.form_submit_button("保存评分", type="primary", disabled=not sheet.editable)
            if saved:
                result = act(round_id, lambda s, r, c=c, values=values, comment=comment: save_candidate_scores(
                    s, actor, r, expert, c.slug, values, comment), lambda res: (
                    f"已保存 {c.name} 的 {res.scores} 项评分" if res.written else "未保存"))
                if result is not None and not result.written:
                    unsay()
                    st.error("未保存：" + "；".join(f"{p.field}：{p.message}（{p.fix}）" for p in result.problems))
                else:
                    st.rerun()
            with st.popover("定量信号（冻结值，参考）"):
                st.dataframe(_frozen_table(sheet, c), hide_index=True, width="stretch")
    _sheet_files(actor, round_id, expert, sheet.editable)


def _sheet_files(actor, round_id: int, expert: str, editable: bool) -> None:
    from tracker.rounds.scoresheet import import_scores

    st.subheader("评分表（Excel）")
    left, right = st.columns(2)
    with left:
        if st.button("生成我的评分表", key="make_sheet", disabled=not editable):
            try:
                with session() as s:
                    data = office.scoresheet_bytes(s, actor, L.get_round(s, round_id), expert)
            except REFUSALS + (RoundsConfigError,) as exc:
                st.error(getattr(exc, "zh", str(exc)))
            else:
                st.download_button("下载评分表", data, file_name=f"评分表-{expert}.xlsx", mime=XLSX, key="sheet_dl")
    with right:
        upload = st.file_uploader("上传填好的评分表（替换您在本轮的全部评分）", type=["xlsx"], key="sheet_up",
                                  disabled=not editable)
        if upload is not None and st.button("导入评分表", key="sheet_import"):
            report = act(round_id, lambda s, r: office.with_upload(
                upload.name, upload.getvalue(), lambda p: import_scores(s, actor, r, expert, p)),
                lambda rep: rep.headline())
            if report is not None and not report.written:
                unsay()
                st.error(report.headline())
                st.dataframe(pd.DataFrame([{"行": i.row, "列": i.column, "值": i.value, "问题": i.message,
                                            "改正": i.fix} for i in report.errors]), hide_index=True, width="stretch")
            elif report is not None:
                st.rerun()


# --- the office -----------------------------------------------------------------------------------------------------

def office_section(actor, round_id: int | None) -> None:
    if round_id is not None:
        with session() as s:
            data = office.round_state(s, actor, L.get_round(s, round_id))
        status = data["status"]
        _next_step(actor, round_id, status)
        tabs = st.tabs(["申报与形式审查", "专家与回避", "结果与分配", "公示与文件"])
        with tabs[0]:
            _applications(actor, round_id, status, data["candidates"])
        with tabs[1]:
            _panel(actor, round_id, status, data)
        with tabs[2]:
            _results(actor, round_id, status)
        with tabs[3]:
            _publicity(actor, round_id, status)
    with st.expander("新建评审轮次"):
        _create(actor)
    open_question()


def _next_step(actor, round_id: int, status: str) -> None:
    if status not in office.NEXT_STEP:
        st.success("本轮已定稿。")
        return
    step, label = office.NEXT_STEP[status]
    if step == "open":
        if st.button(label, type="primary", key="step"):
            _confirm("开放申报后即可登记申报。", round_id, lambda s, r: L.open_round(s, actor, r), "已开放申报")
    elif step == "close_check":
        if st.button(label, type="primary", key="step"):
            _confirm("结束形式审查后不能再登记申报或改审查结论。", round_id, lambda s, r: L.close_check(s, actor, r),
                     "形式审查已结束")
    elif step == "freeze":
        if st.button(label, type="primary", key="step"):
            _confirm("冻结后，本轮只读取冻结的数据（数据截止日的信号）；此后的采集和更正不再影响本轮。", round_id,
                     lambda s, r: office.freeze_configured(s, actor, r, config_dir()),
                     lambda n: f"数据已冻结：{n} 个信号值")
    elif step == "close_scoring":
        incomplete = st.checkbox("专家不足的申报记为“专家人数不足”并结束", key="accept_incomplete")
        if st.button(label, type="primary", key="step"):
            _confirm("结束评分后专家不能再修改评分。", round_id,
                     lambda s, r: L.close_scoring(s, actor, r, incomplete), "评分已结束")
    elif step == "decide":
        st.caption("先在「结果与分配」中分配资金，再上传集体研究会议纪要并记录决定。")
    elif step == "publicise":
        start = st.date_input("公示开始日（北京日期）", value=beijing_today(), key="publicity_start")
        if st.button(label, type="primary", key="step"):
            from tracker.rounds.decision import publicise

            _confirm(f"自 {start} 起公示。", round_id, lambda s, r: publicise(s, actor, r, start),
                     lambda end: f"公示期 {start} 至 {end}")
    elif step == "finalise":
        if st.button(label, type="primary", key="step"):
            from tracker.rounds.decision import finalise

            _confirm("定稿后本轮结果不再改变。", round_id, lambda s, r: finalise(s, actor, r), "本轮已定稿")


def _applications(actor, round_id: int, status: str, candidates: list) -> None:
    if candidates:
        st.dataframe(pd.DataFrame([{"社区": slug, "申报单位": applicant, "形式审查": vocab.CHECK_STATUSES.zh(check),
                                    "原因": reason or "", "诚信提示": "；".join(f["label"] for f in flags or [])}
                                   for check, slug, applicant, reason, flags in candidates]),
                     hide_index=True, width="stretch")
    else:
        st.caption("尚无申报。")
    if status in ("draft", "open"):
        with session() as s:
            choices = office.communities(s, actor)
        names = dict(choices)
        with st.form("apply"):
            slug = st.selectbox("社区", list(names), format_func=lambda k: f"{names[k]}（{k}）")
            applicant = st.text_input("申报单位")
            uscc = st.text_input("统一社会信用代码（可选）")
            if st.form_submit_button("登记申报"):
                act(round_id, lambda s, r: L.apply(s, actor, r, slug, applicant, uscc.strip() or None) and None,
                    f"已登记 {slug} 的申报")
                st.rerun()
    if status == "open" and candidates:
        with st.form("check"):
            slug = st.selectbox("审查的申报", [c[1] for c in candidates])
            passed = st.radio("结论", ["通过", "不通过"], horizontal=True) == "通过"
            reason = st.text_input("原因（不通过时必填）")
            if st.form_submit_button("记录审查结论"):
                act(round_id, lambda s, r: L.check(s, actor, r, slug, passed, reason,
                                                   load_rounds_config(config_dir()).checklist) and None,
                    f"已记录 {slug} 的形式审查结论")
                st.rerun()


def _panel(actor, round_id: int, status: str, data: dict) -> None:
    st.write("专家组：" + ("、".join(data["experts"]) or "（空）"))
    if data["coverage"]:
        st.dataframe(pd.DataFrame([{"社区": c.slug, "完整评分专家": c.experts, "回避": c.conflicted,
                                    "未完成": "、".join(c.missing)} for c in data["coverage"]]),
                     hide_index=True, width="stretch")
    if status not in ("draft", "open", "checked", "frozen"):
        return
    left, right = st.columns(2)
    with left.form("expert_add"):
        name = st.text_input("增加专家（评审专家用户名）")
        if st.form_submit_button("增加"):
            act(round_id, lambda s, r: L.add_expert(s, actor, r, name.strip()) and None, f"已增加专家 {name}")
            st.rerun()
    with right.form("conflict"):
        expert = st.selectbox("专家", data["experts"] or [""])
        slug = st.selectbox("回避的申报", [c[1] for c in data["candidates"]] or [""])
        reason = st.text_input("回避原因")
        if st.form_submit_button("登记回避"):
            act(round_id, lambda s, r: L.declare_conflict(s, actor, r, expert, slug, reason),
                lambda n: f"已登记 {expert} 对 {slug} 的回避" + (f"，作废其评分 {n} 项" if n else ""))
            st.rerun()


def _results(actor, round_id: int, status: str) -> None:
    if status in ("draft", "open", "checked"):
        st.caption("数据冻结后显示暂定结果。")
        return
    with session() as s:
        data = office.round_results(s, actor, L.get_round(s, round_id))
    if data["round"]["provisional"]:
        st.info("暂定结果：评分尚未结束。")
    rows = [{"排名": r["rank"], "社区": r["community"], "申报单位": r["applicant"],
             "状态": vocab.SCORE_STATUSES.zh(r["status"]), "总分": r["total"], "定量": r["quantitative"],
             "专家": r["expert_points"], "覆盖率": f"{r['coverage']:.0%}",
             "金额": yuan(r["amount"]) if r["amount"] else "",
             "分歧大": "、".join(k for k, v in r["expert"].items() if v["flagged"]),
             "诚信提示": "；".join(f["label"] for f in r["flags"]),
             "原因": r["reason"] if r["status"] != "ranked" and r["reason"] else ""} for r in data["results"]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if status not in ("scored", "decided"):
        return
    with st.form("allocate"):
        st.markdown("**分配资金**（预算 %s，单项上限 %s）" % (yuan(data["round"]["budget"]),
                                                     yuan(data["round"]["max_award"])))
        rule = st.radio("规则", ["tiers", "proportional", "equal"], horizontal=True,
                        format_func={"tiers": "按名次档次", "proportional": "按得分比例", "equal": "平均"}.get)
        tiers = st.text_input("各名次金额（元，逗号分隔；按名次档次时）", value="2000000,1000000,500000")
        top = st.number_input("前 N 名（比例、平均时）", min_value=1, value=3, step=1)
        if st.form_submit_button("分配"):
            from tracker.rounds.decision import allocate

            try:
                amounts = [int(x.strip().replace(",", "")) for x in tiers.replace("，", ",").split(",") if x.strip()]
            except ValueError:
                say("error", "各名次金额须为整数元，用逗号分隔，例如 2000000,1000000,500000")
            else:
                act(round_id, lambda s, r: allocate(s, actor, r, rule, tiers=amounts if rule == "tiers" else None,
                                                   top=None if rule == "tiers" else int(top)),
                    lambda a: f"已分配 {yuan(a.allocated)}，预算剩余 {yuan(a.rest)}")
            st.rerun()
    minutes = st.file_uploader("集体研究会议纪要（PDF 等）", key="minutes")
    if minutes is not None and st.button("记录集体研究决定", key="decide"):
        from tracker.rounds.decision import decide

        _confirm(f"以纪要 {minutes.name} 记录决定（金额按分配结果）。", round_id,
                 lambda s, r: office.with_upload(minutes.name, minutes.getvalue(), lambda p: decide(s, actor, r, p)),
                 lambda d: f"已记录集体研究决定：合计 {yuan(sum(d.values()))}")


def _publicity(actor, round_id: int, status: str) -> None:
    if status in ("frozen", "scored", "decided", "publicised", "final"):
        if st.button("生成评审记录工作簿（XLSX）", key="make_workbook"):
            with session() as s:
                data = office.workbook_bytes(s, actor, L.get_round(s, round_id))
            st.download_button("下载评审记录", data, file_name=f"评审记录-{round_id}.xlsx", mime=XLSX, key="wb_dl")
    if status in ("decided", "publicised", "final"):
        if st.button("生成公示名单（XLSX）", key="make_public"):
            with session() as s:
                data = office.public_list_bytes(s, actor, L.get_round(s, round_id))
            st.download_button("下载公示名单", data, file_name=f"公示名单-{round_id}.xlsx", mime=XLSX, key="pub_dl")
    if status not in ("publicised", "final"):
        return
    with session() as s:
        rows = office.objections(s, actor, L.get_round(s, round_id))
    if rows:
        st.dataframe(pd.DataFrame([{"编号": o["id"], "异议人": o["objector"], "单位": o["unit"], "内容": o["text"],
                                    "材料": o["evidence"], "收到": when(o["received_at"]), "状态": o["status_label"],
                                    "处理": o["resolution"] or ""} for o in rows]), hide_index=True, width="stretch")
    if status != "publicised":
        return
    from tracker.rounds.decision import add_objection, resolve_objection

    with st.form("objection"):
        st.markdown("**登记异议**（须实名，附证明材料）")
        objector, unit = st.text_input("异议人"), st.text_input("单位")
        contact, text = st.text_input("联系方式"), st.text_area("异议内容")
        evidence = st.file_uploader("证明材料")
        if st.form_submit_button("登记"):
            if evidence is None:
                say("error", "须附证明材料")
            else:
                act(round_id, lambda s, r: office.with_upload(evidence.name, evidence.getvalue(), lambda p: add_objection(
                    s, actor, r, objector=objector, unit=unit, contact=contact, evidence=p, text=text)).id,
                    lambda n: f"异议已登记：编号 {n}")
            st.rerun()
    open_ids = [o["id"] for o in rows if o["status"] == "open"]
    if open_ids:
        with st.form("resolve"):
            number = st.selectbox("处理异议", open_ids)
            upheld = st.radio("结论", ["不成立", "成立（本轮回到“已集体研究”）"], horizontal=True) != "不成立"
            reason = st.text_input("理由")
            if st.form_submit_button("记录处理结果"):
                act(round_id, lambda s, r: resolve_objection(s, actor, r, number, upheld, reason).status,
                    lambda st_: f"异议 {number}：{vocab.OBJECTION_STATUSES.zh(st_)}")
                st.rerun()


def _create(actor) -> None:
    from tracker.scoring.loading import available_model_names, load_model

    models = available_model_names(config_dir() / "models")
    with st.form("create_round"):
        year = st.number_input("年度", min_value=2025, max_value=2100, value=beijing_today().year, step=1)
        name = st.text_input("名称", value=f"{beijing_today().year}年度特色开源社区")
        model = st.selectbox("评分模型", models, index=models.index("mantianxing") if "mantianxing" in models else 0)
        cutoff = st.date_input("数据截止日（北京日期）", value=beijing_today() - dt.timedelta(days=1))
        budget = st.number_input("预算（元）", min_value=1, value=6_000_000, step=100_000)
        max_award = st.number_input("单项上限（元）", min_value=1, value=2_000_000, step=100_000)
        aggregation = st.selectbox("专家评分汇总", list(vocab.AGGREGATIONS.values), format_func=vocab.AGGREGATIONS.zh)
        min_experts = st.number_input("每个申报至少的专家人数", min_value=1, value=3, step=1)
        if st.form_submit_button("新建"):
            act(None, lambda s, _: L.create_round(
                s, actor, year=int(year), name=name.strip(), model=load_model(model, config_dir() / "models"),
                cutoff=cutoff, budget=int(budget), max_award=int(max_award), aggregation=aggregation,
                min_experts=int(min_experts)).id, lambda n: f"已新建轮次 {n}")
            st.rerun()
