"""社区排名 / the community ranking: live scores of the quantitative part (the expert part 待评审), or a round's results."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tracker import vocab
from tracker.formatting import date_text, yuan
from tracker.rounds import office
from tracker.rounds.lifecycle import get_round
from tracker.scoring.live import group_points, may_see_ranking, ranking_xlsx
from views import charts, figures
from views.choosers import scoring_choosers
from views.common import config_dir, current_actor, data_versions, database_url, session

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
actor = current_actor()
st.title("社区排名")
with session() as s:
    rounds = office.rankable_rounds(s, actor)
LIVE = "实时（定量部分）"
round_labels = {f"评审轮次 {r['year']}/{r['name']}（{r['status_label']}）": r["id"] for r in rounds}
source = st.radio("排名依据", [LIVE, *round_labels], horizontal=True) if round_labels else LIVE
focus_labels = {"全部领域": None, **{t.zh: t.value for t in vocab.FOCUS_FIELDS}}


def bars(frame: pd.DataFrame) -> None:
    charts.bars(frame, charts.field("sum(得分):Q", title="得分"), charts.field("社区:N", sort="-x"),
                color=charts.field("分组:N"), tooltip=["社区", "分组", "得分:Q"])


def detail_links(slugs_names: list[tuple[str, str]], keep: dict | None = None) -> None:
    """Open a community's 社区详情 (why this score, peers, activity)."""
    if not slugs_names:
        return
    names = dict(slugs_names)
    chosen = st.selectbox("查看社区详情", list(names), format_func=lambda k: f"{names[k]}（{k}）", index=None,
                          placeholder="选择一个社区…", key="open_detail")
    if chosen:
        st.page_link("views/community.py", label=f"打开 {names[chosen]} 的社区详情 →", icon=":material/search:",
                     query_params={"community": chosen, **(keep or {})})


if source == LIVE:
    model, as_of, focus = scoring_choosers()
    may_see_ranking(actor)
    with st.spinner("正在计算评分…"):
        scores, report, scoring_model = figures.live(database_url(), model, str(config_dir()), as_of, focus,
                                                     data_versions())
    names = {sc.key: sc.name for sc in report.scopes}
    focus_of = {sc.key: sc.focus for sc in report.scopes}
    if scores.pending:
        st.info(f"定量部分得分，满分 {scores.max_score:g} 分；专家评审部分（{len(scores.pending)} 项）待评审。")
    st.caption(f"模型 {scoring_model.name}（sha256 {scores.model_hash[:12]}）· 截至 {date_text(report.as_of)}")
    ranked = [r for r in scores.results if r.result.status == "ranked"]
    apart = [r for r in scores.results if r.result.status != "ranked"]
    table = pd.DataFrame([{"排名": r.result.rank, "社区": names.get(r.name, r.name), "代号": r.name,
                           "领域": vocab.FOCUS_FIELDS.zh(r.focus), "得分": r.score,
                           "覆盖率": f"{r.result.coverage:.0%}"} for r in ranked])
    if table.empty:
        st.warning("没有可排名的社区：请检查数据截至日期与采集情况。")
    else:
        st.dataframe(table, hide_index=True, width="stretch")
        bars(pd.DataFrame([{"社区": names.get(r.name, r.name), "分组": group, "得分": points}
                           for r in ranked for group, points in group_points(scores, r).items()]))
    if apart:
        st.subheader("未排名")
        st.dataframe(pd.DataFrame([{"社区": names.get(r.name, r.name), "状态": vocab.SCORE_STATUSES.zh(r.result.status),
                                    "覆盖率": f"{r.result.coverage:.0%}", "原因": r.result.reason or ""}
                                   for r in apart]), hide_index=True, width="stretch")
    detail_links([(r.name, names.get(r.name, r.name)) for r in scores.results],
                 {"model": model, "as_of": report.as_of.isoformat()})
    if st.button("生成排名表（XLSX）"):
        st.download_button("下载排名表", ranking_xlsx(scores, names, focus_of),
                           file_name=f"社区排名-{report.as_of}.xlsx", mime=XLSX)
else:
    round_id = round_labels[source]
    with session() as s:
        data = office.ranking_results(s, actor, get_round(s, round_id))
    head = data["round"]
    focus = focus_labels[st.selectbox("重点领域", list(focus_labels))]
    if head["provisional"]:
        st.info("暂定结果：评分尚未结束，专家评分可能还会变化。")
    st.caption(f"模型 {head['model']['name']}（sha256 {head['model']['hash'][:12]}）· 数据截止 {head['cutoff']} · "
               f"专家评分汇总 {vocab.AGGREGATIONS.zh(head['aggregation'])}")
    shown = [r for r in data["results"] if focus is None or r["focus"] == focus]
    ranked = [r for r in shown if r["status"] == "ranked"]
    apart = [r for r in shown if r["status"] != "ranked"]
    if ranked:
        st.dataframe(pd.DataFrame([{"排名": r["rank"], "社区": r["name"], "代号": r["community"],
                                    "领域": vocab.FOCUS_FIELDS.zh(r["focus"]), "总分": r["total"],
                                    "覆盖率": f"{r['coverage']:.0%}", "金额": yuan(r["amount"]) if r["amount"] else ""}
                                   for r in ranked]), hide_index=True, width="stretch")
        bars(pd.DataFrame([{"社区": r["name"], "分组": group, "得分": points} for r in ranked
                           for group, points in (("定量部分", r["quantitative"]), ("专家评审", r["expert_points"]))]))
    else:
        st.warning("该轮次在所选领域没有可排名的申报。")
    if apart:
        st.subheader("未排名")
        st.dataframe(pd.DataFrame([{"社区": r["name"], "状态": vocab.SCORE_STATUSES.zh(r["status"]),
                                    "覆盖率": f"{r['coverage']:.0%}", "原因": r["reason"] or ""} for r in apart]),
                     hide_index=True, width="stretch")
    detail_links([(r["community"], r["name"]) for r in shown])
    if st.button("生成排名表（XLSX）"):
        st.download_button("下载排名表", office.results_xlsx(data), file_name=f"评审排名-{round_id}.xlsx", mime=XLSX)
