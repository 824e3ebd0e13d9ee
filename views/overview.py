"""总览 / overview: what the database holds and how fresh it is."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from collector import registry
from tracker.formatting import when, yuan
from tracker.overview import overview
from tracker.vocab import AWARD_STATUSES, CERT_STATUSES, COUNTING_AWARD_LABEL, FOCUS_FIELDS
from views import charts
from views.common import current_actor, data_versions, database_url, session



@st.cache_data(ttl=3600, max_entries=64, show_spinner="正在读取数据…")
def load(url: str, actor, versions: tuple) -> dict:
    """Kept until the data under it changes (an approval or a collection shows on the next run)."""
    with session() as s:
        return overview(s, actor)


actor = current_actor()
data = load(database_url(), actor, data_versions())

st.title("总览")
fresh = data["freshness"]
st.caption(f"数据更新于 {when(fresh['last_run_finished_at'])} · 最新提交 {when(fresh['latest_commit'])} · "
           f"最新仓库快照 {when(fresh['latest_snapshot'])}")

st.subheader("开源社区")
cols = st.columns(4)
cols[0].metric("社区", f"{data['communities']:,}")
cols[1].metric("仓库", f"{data['repositories']:,}")
cols[2].metric("提交（镜像去重，不含机器人与合并）", f"{data['commits']:,}")
cols[3].metric("贡献者（不含机器人）", f"{data['contributors']:,}")
cols = st.columns(4)
cols[0].metric("版本发布", f"{data['releases']:,}")
cols[1].metric("Issue", f"{data['issues']:,}")
cols[2].metric("Pull/Merge Request", f"{data['pull_requests']:,}")
focus = "、".join(f"{FOCUS_FIELDS.zh(k)} {v}" for k, v in sorted(data["communities_by_focus"].items()))
cols[3].metric("重点领域", focus or "—")

left, right = st.columns(2)
with left:
    st.markdown("**各平台仓库数**")
    platforms = pd.DataFrame([{"平台": registry.label(k), "仓库数": v}  # labels as the platform modules declare them
                              for k, v in data["repositories_by_platform"].items()])
    if not platforms.empty:
        charts.bars(platforms, charts.field("仓库数:Q"), charts.field("平台:N", sort="-x"), tooltip=["平台", "仓库数:Q"])
with right:
    st.markdown("**每月提交数（镜像去重，北京时间月份）**")
    monthly = pd.DataFrame([{"月份": k, "提交数": v} for k, v in data["commits_by_month"].items()])
    if not monthly.empty:
        charts.line(monthly, charts.field("月份:O"), charts.field("提交数:Q"), tooltip=["月份", "提交数:Q"])

st.subheader("开源鸿蒙适配认证奖励" + ("（本企业）" if data["scope"] == "enterprise" else ""))
cols = st.columns(4)
cols[0].metric("企业", f"{data['enterprises']:,}")
cols[1].metric("产品", f"{data['products']:,}")
revoked = data["certificates_by_status"].get("revoked", 0)
cols[2].metric("证书", f"{data['certificates']:,}", help=f"其中{CERT_STATUSES.zh('revoked')} {revoked} 张")
cols[3].metric(f"奖励金额（{COUNTING_AWARD_LABEL}）", yuan(data["awarded_total"]))
if data["awards_by_status"]:
    st.caption(" · ".join(f"{AWARD_STATUSES.zh(k)} {yuan(data['awards_by_status'][k])}"
                          for k in AWARD_STATUSES.values if k in data["awards_by_status"]))
