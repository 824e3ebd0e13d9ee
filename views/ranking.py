"""社区排名 / the community ranking: live scores of the quantitative part (the expert part 待评审)."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from tracker import vocab
from tracker.formatting import date_text
from tracker.metrics.compute import default_as_of
from tracker.scoring.live import group_points, live_ranking, ranking_xlsx
from tracker.scoring.loading import available_model_names
from views.common import config_dir, current_actor, session

actor = current_actor()
st.title("社区排名")
models = available_model_names(config_dir() / "models")
left, middle, right = st.columns(3)
model = left.selectbox("评分模型", models, index=models.index("mantianxing") if "mantianxing" in models else 0)
with session() as s:
    import datetime as dt

    suggested, why = default_as_of(s, dt.datetime.now(dt.timezone.utc), 3)
as_of = middle.date_input("数据截至（北京日期）", value=suggested, help=why)
focus_labels = {"全部领域": None, **{t.zh: t.value for t in vocab.FOCUS_FIELDS}}
focus = focus_labels[right.selectbox("重点领域", list(focus_labels))]

with session() as s:
    scores, report, scoring_model = live_ranking(s, actor, model, config_dir(), as_of=as_of, focus=focus)
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
    bars = pd.DataFrame([{"社区": names.get(r.name, r.name), "分组": group, "得分": points}
                         for r in ranked for group, points in group_points(scores, r).items()])
    st.altair_chart(alt.Chart(bars).mark_bar().encode(
        x=alt.X("sum(得分):Q", title="得分"), y=alt.Y("社区:N", sort="-x"), color=alt.Color("分组:N"),
        tooltip=["社区", "分组", "得分"]), width="stretch")
if apart:
    st.subheader("未排名")
    st.dataframe(pd.DataFrame([{"社区": names.get(r.name, r.name), "状态": vocab.SCORE_STATUSES.zh(r.result.status),
                                "覆盖率": f"{r.result.coverage:.0%}", "原因": r.result.reason or ""} for r in apart]),
                 hide_index=True, width="stretch")
if st.button("生成排名表（XLSX）"):
    st.download_button("下载排名表", ranking_xlsx(scores, names, focus_of), file_name=f"社区排名-{report.as_of}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
