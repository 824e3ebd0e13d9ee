"""社区详情 / one community: its score explained (as `mtx score --explain`), activity over 24 months, repositories
with their mirror overlap, organisations and top contributors. ``?community=SLUG`` opens a community directly."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tracker import vocab
from tracker.formatting import NONE, date_text, time_text
from tracker.metrics import detail
from tracker.metrics.compute import MetricsError
from views import charts, figures
from views.choosers import scoring_choosers
from views.common import config_dir, current_actor, data_versions, database_url, session

PER_PAGE = 20


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


def reason_text(reason: str | None) -> str:
    return "" if reason is None else vocab.METRIC_REASONS.zh(reason)


def fetch_page(key: str, fetch) -> detail.Paged:
    """The page of a table the pager under it chose (the database pages; one query per table)."""
    requested = st.session_state.get(key, 1)
    result = fetch(requested)
    if requested > result.pages:  # fewer rows than before: the last page
        result = fetch(result.pages)
        st.session_state[key] = result.pages
    return result


def pager(key: str, result: detail.Paged) -> None:
    if result.pages > 1:
        st.pagination(result.pages, key=key)


actor = current_actor()
st.title("社区详情")
model, as_of, focus = scoring_choosers()
with session() as s:
    choices = detail.community_choices(s, actor, focus)
if not choices:
    st.warning("该领域没有社区。")
    st.stop()
slugs = [slug for slug, _, _ in choices]
label_of = {slug: f"{name}（{slug}）" for slug, name, _ in choices}
wanted = st.query_params.get("community")
slug = st.selectbox("社区", slugs, index=slugs.index(wanted) if wanted in slugs else 0, format_func=label_of.get)
st.query_params["community"] = slug  # the address names the community shown, so it can be shared

try:
    detail.may_read(actor)
    with st.spinner("正在计算评分…"):
        ranking = figures.live(database_url(), model, str(config_dir()), as_of, None, data_versions())
    with session() as s:
        ex = detail.explain(s, actor, slug, model, config_dir(), as_of=as_of, ranking=ranking)
except MetricsError as exc:
    st.error(str(exc))
    st.stop()

st.header(ex.name)
cols = st.columns(4)
cols[0].metric("定量得分", NONE if ex.score is None else f"{ex.score:g} / {ex.max_score:g}")
cols[1].metric("排名（全部社区）", NONE if ex.rank is None else str(ex.rank))
cols[2].metric(f"排名（{vocab.FOCUS_FIELDS.zh(ex.focus)}领域）", NONE if ex.focus_rank is None else str(ex.focus_rank))
cols[3].metric("覆盖率", f"{ex.coverage:.0%}")
st.caption(f"模型 {ex.model}（sha256 {ex.model_hash[:12]}）· 截至 {date_text(ex.as_of)} · "
           f"同领域对比：{vocab.FOCUS_FIELDS.zh(ex.focus)}领域的其他 {ex.peers} 个社区")
if ex.pending:
    st.info(f"定量部分得分，满分 {ex.max_score:g} 分；专家评审部分（{len(ex.pending)} 项）待评审。")
if ex.score is None:
    st.warning(f"无得分：{ex.reason or vocab.SCORE_STATUSES.zh(ex.status)}")

st.subheader("各信号得分")
signals = pd.DataFrame([{"信号": r.label, "代号": r.signal, "值": r.value_text, "得分": r.points, "满分": r.max_points,
                         "同领域百分位": percent(r.percentile), "说明": reason_text(r.reason)} for r in ex.signals])
bars = pd.DataFrame([{"信号": r.label, "类别": kind, "分数": points} for r in ex.signals
                     for kind, points in (("满分", r.max_points), ("得分", r.points))])
charts.bars(bars, charts.field("分数:Q", stack=None), charts.field("信号:N", sort=[r.label for r in ex.signals]),
            color=charts.field("类别:N", scale={"domain": ["满分", "得分"], "range": ["#d9d9d9", "#1f77b4"]}),
            tooltip=["信号", "类别", "分数:Q"])
st.dataframe(signals, hide_index=True, width="stretch")

left, right = st.columns(2)
with left:
    st.markdown("**缺失的信号**")
    if ex.missing:
        st.dataframe(pd.DataFrame([{"信号": r.label, "原因": reason_text(r.reason)} for r in ex.missing]),
                     hide_index=True, width="stretch")
    else:
        st.caption("没有缺失的信号。")
    st.markdown("**最值得改进（低于同领域中位数最多的三项）**")
    if ex.gaps:
        st.dataframe(pd.DataFrame([{"信号": label, "低于中位数（分）": round(gap, 2)} for _, label, gap in ex.gaps]),
                     hide_index=True, width="stretch")
    else:
        st.caption("没有低于同领域中位数的信号。" if ex.peers else "同领域没有其他社区。")
with right:
    st.markdown("**同领域百分位**（同行中表现更差者的比例，并列计一半）")
    ranks = pd.DataFrame([{"信号": r.label, "百分位": r.percentile} for r in ex.signals if r.percentile is not None])
    if not ranks.empty:
        charts.bars(ranks, charts.field("百分位:Q", axis={"format": "%"}, scale={"domain": [0, 1]}),
                    charts.field("信号:N", sort="-x"), tooltip=["信号", charts.field("百分位:Q", format=".0%")])

with session() as s:
    monthly = detail.monthly_activity(s, actor, slug, ex.as_of)
st.subheader(f"近 {len(monthly.months)} 个月活动（北京时间月份，截至 {date_text(ex.as_of)}）")
titles = {"commits": "提交数（镜像去重，不含机器人与合并）", "contributors": "贡献者数（当月不同的人）",
          "issues": "新建 Issue", "pulls": "新建 Pull/Merge Request"}
grid = st.columns(2) + st.columns(2)
for place, (name, title) in zip(grid, titles.items()):
    with place:
        st.markdown(f"**{title}**")
        values = monthly.series[name]
        if values is None:
            where = "、".join(monthly.not_collected[name])
            st.warning(f"不可用：{reason_text(monthly.reasons[name])}" + (f"（{where}）" if where else ""))
            continue
        charts.line(pd.DataFrame({"月份": monthly.months, "数量": values}), charts.field("月份:O"),
                    charts.field("数量:Q"), tooltip=["月份", "数量:Q"])
with st.expander("每月数据"):
    st.dataframe(pd.DataFrame({"月份": monthly.months, **{titles[n]: v if v is not None else [NONE] * len(monthly.months)
                                                       for n, v in monthly.series.items()}}),
                 hide_index=True, width="stretch")

st.subheader("仓库")
with session() as s:
    repos = fetch_page(f"repositories:{slug}", lambda page: detail.repositories(s, actor, slug, ex.as_of, page=page,
                                                                                 per_page=PER_PAGE))
st.dataframe(pd.DataFrame([{"平台": r["platform_label"], "仓库": r["path"], "状态": vocab.REPO_STATES.zh(r["state"]),
                            "最近完整采集": time_text(r["collected_at"]),
                            "覆盖截至日": "是" if r["covers_as_of"] else "否", "提交数": r["commits"],
                            "镜像重合": percent(r["mirror_overlap"]), "链接": r["web_url"]} for r in repos.rows]),
             hide_index=True, width="stretch", column_config={"链接": st.column_config.LinkColumn("链接")})
pager(f"repositories:{slug}", repos)
st.caption(f"共 {repos.total} 个仓库。提交数：截至日前、不含机器人与合并；镜像重合：这些提交中也出现在本社区其他仓库的比例。")

window = ex.windows.get("top_org_commit_share", 365)
window_text = "全部时间" if window == "all" else f"近 {window} 天"
with session() as s:
    orgs = detail.organisations(s, actor, slug, ex.as_of, window)
st.subheader(f"组织提交占比（{window_text}）")
if orgs.rows:
    shares = pd.DataFrame([{"组织": r["name"], "类型": r["kind"], "提交数": r["commits"], "占比": r["share"]}
                           for r in orgs.rows])
    charts.bars(shares.head(15), charts.field("占比:Q", axis={"format": "%"}), charts.field("组织:N", sort="-x"),
                tooltip=["组织", "提交数:Q", charts.field("占比:Q", format=".1%")])
    st.dataframe(shares.assign(占比=[percent(v) for v in shares["占比"]]), hide_index=True, width="stretch")
else:
    st.caption("窗口内没有计入的提交。")

window = ex.windows.get("contributor_count", 365)
st.subheader(f"主要贡献者（{'全部时间' if window == 'all' else f'近 {window} 天'}）")
with session() as s:
    people = fetch_page(f"contributors:{slug}", lambda page: detail.top_contributors(
        s, actor, slug, ex.as_of, window, page=page, per_page=PER_PAGE))
st.dataframe(pd.DataFrame([{"名次": r["rank"], "姓名": r["name"], "邮箱（已隐去）": r["email"], "组织": r["organisation"],
                            "提交数": r["commits"], "最近提交": time_text(r["last_at"])} for r in people.rows]),
             hide_index=True, width="stretch")
pager(f"contributors:{slug}", people)
st.caption(f"共 {people.total} 位贡献者（不含机器人）。")
