"""数据采集 / collection status: per repository the last run (failures first, then the stalest), one page at a time
from the database, and how fresh each community's data is."""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import streamlit as st

from collector import registry
from tracker.collect.paged_status import (STATUS_FILTERS, collection_filters, collection_summary,
                                          community_freshness, repository_page)
from tracker.formatting import NONE, age_text, time_text
from tracker.vocab import FOCUS_FIELDS, NEVER_COLLECTED, RESULT_STATUSES, RUN_STATUSES
from views import charts
from views.common import current_actor, database_url, session

PAGE_SIZES = (20, 50, 100)
COMMUNITY_PAGE_SIZE = 20
FAILED_ROW = "background-color: rgba(255, 75, 75, 0.15)"


@st.cache_data(ttl=30, show_spinner="正在读取采集状态…")
def load_head(url: str, actor) -> tuple[dict, dict]:
    with session() as s:
        return collection_summary(s, actor), collection_filters(s, actor)


@st.cache_data(ttl=30, show_spinner="正在读取采集状态…")
def load_repositories(url: str, actor, community, platform, status, size: int, offset: int):
    with session() as s:
        return repository_page(s, actor, community=community, platform=platform, status=status, limit=size,
                               offset=offset)


@st.cache_data(ttl=30, show_spinner="正在读取采集状态…")
def load_communities(url: str, actor, offset: int):
    with session() as s:
        return community_freshness(s, actor, limit=COMMUNITY_PAGE_SIZE, offset=offset)


def number(value) -> str:
    return NONE if value is None else f"{value:,}"


def pager(total: int, size: int, key: str) -> int:
    """The page chosen (1 when everything fits on one)."""
    pages = max(1, math.ceil(total / size))
    return st.pagination(pages, key=key) if pages > 1 else 1


actor = current_actor()
url = database_url()
now = dt.datetime.now(dt.timezone.utc)
summary, filters = load_head(url, actor)

st.title("数据采集")
run = summary["last_run"]
if run is None:
    st.info("还没有任何采集记录：运行 `mtx collect` 后这里显示每个仓库的采集情况。")
else:
    st.caption(f"最近一次采集：第 {run['id']} 次 · {RUN_STATUSES.zh(run['status'])} · "
               f"开始 {time_text(run['started_at'])} · 结束 {time_text(run['finished_at'])}")
    if run["error"]:
        st.warning(f"最近一次采集的问题：{run['error']}")
by_status = summary["by_status"]
stopped_early = RESULT_STATUSES.with_flag("stopped_early")
cols = st.columns(4)
cols[0].metric("仓库", f"{summary['repositories']:,}")
cols[1].metric(RESULT_STATUSES.zh("failed"), f"{by_status.get('failed', 0):,}", help="上次采集失败的仓库")
cols[2].metric("未采完（" + "/".join(RESULT_STATUSES.zh(s) for s in stopped_early) + "）",
               f"{sum(by_status.get(s, 0) for s in stopped_early):,}", help="下次采集从书签处继续")
cols[3].metric(RESULT_STATUSES.zh(NEVER_COLLECTED), f"{by_status.get(NEVER_COLLECTED, 0):,}")

st.subheader("各仓库采集情况")
communities = dict(filters["communities"])
left, middle, right, last = st.columns([3, 2, 2, 1])
community = left.selectbox("社区", [None, *communities], format_func=lambda c: "全部社区" if c is None else communities[c])
platform = middle.selectbox("平台", [None, *filters["platforms"]],
                            format_func=lambda p: "全部平台" if p is None else registry.label(p))
status = right.selectbox("上次采集状态", [None, *STATUS_FILTERS],
                         format_func=lambda s: "全部状态" if s is None else RESULT_STATUSES.zh(s))
size = last.selectbox("每页", PAGE_SIZES, index=1)

first = load_repositories(url, actor, community, platform, status, size, 0)
# new filters start again at page 1: the selector's key names them
chosen = pager(first.total, size, key=f"repositories-{community}-{platform}-{status}-{size}")
page = first if chosen == 1 else load_repositories(url, actor, community, platform, status, size, (chosen - 1) * size)
if not page.rows:
    st.info("没有符合条件的仓库。")
else:
    st.caption(f"共 {page.total:,} 个仓库，第 {page.offset + 1:,}–{page.offset + len(page.rows):,} 个 · "
               "上次采集失败的排在最前，其余按上次完整采集的时间（最久的在前）")
    table = pd.DataFrame([{
        "平台": registry.label(r["platform"]), "仓库": r["path"], "社区": "、".join(r["communities"]),
        "上次采集": RESULT_STATUSES.zh(r["status"]), "结束于": time_text(r["finished_at"]),
        "上次完整采集": age_text(r["complete_at"], now), "写入条目": number(r["items"]),
        "条目明细": r["items_text"], "请求数": number(r["requests"]), "304（未变化）": number(r["not_modified"]),
        "限流等待（次）": number(r["rate_limit_waits"]),
        "等待（秒）": NONE if r["wait_seconds"] is None else f"{r['wait_seconds']:,.0f}",
        "错误": r["error"] or "",
    } for r in page.rows])
    failed = RESULT_STATUSES.zh("failed")
    st.dataframe(table.style.apply(lambda row: [FAILED_ROW if row["上次采集"] == failed else ""] * len(row), axis=1),
                 hide_index=True, width="stretch")

st.subheader("各社区数据新鲜度")
first = load_communities(url, actor, 0)
chosen = pager(first.total, COMMUNITY_PAGE_SIZE, key="communities")
fresh = first if chosen == 1 else load_communities(url, actor, (chosen - 1) * COMMUNITY_PAGE_SIZE)
st.caption(f"共 {fresh.total:,} 个社区 · “全部仓库完整采集截至”是该社区最久未完整采集的仓库上次完整采集的时间；"
           "有仓库从未完整采集时不可用（—）。有失败或未完整采集仓库的社区排在最前。")
st.dataframe(pd.DataFrame([{
    "社区": c["name"], "代号": c["slug"], "领域": FOCUS_FIELDS.zh(c["focus"]), "仓库": c["repositories"],
    "失败": c["failed"], "未采完": c["stopped_early"], "从未完整采集": c["never_complete"],
    "全部仓库完整采集截至": time_text(c["complete_as_of"]), "距今": age_text(c["complete_as_of"], now),
    "最近采集结束": time_text(c["last_finished"]),
} for c in fresh.rows]), hide_index=True, width="stretch")
ages = pd.DataFrame([{"社区": c["name"], "距今（天）": round((now - c["complete_as_of"]).total_seconds() / 86_400, 1)}
                     for c in fresh.rows if c["complete_as_of"] is not None])
if not ages.empty:
    charts.bars(ages, charts.field("距今（天）:Q", title="全部仓库完整采集距今（天）"),
                charts.field("社区:N", sort="-x"), tooltip=["社区", "距今（天）:Q"])
