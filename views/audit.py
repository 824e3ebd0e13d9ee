"""审计日志 / the audit log (administrators): filter by who, action, entity and Beijing date range, newest first, paged
in the database (tracker.audit_log); the selection downloads as XLSX or CSV, built on click, every cell neutralised.
The log is append-only: this page only reads it."""
from __future__ import annotations

import math
from functools import partial

import pandas as pd
import streamlit as st

from tracker import audit_log
from tracker.formatting import time_text
from tracker.vocab import ROLES
from views.common import current_actor, session

PAGE_SIZE = 50
ALL = ""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

actor = current_actor()
st.title("审计日志")
st.caption("谁在何时做了什么，变更前后各是什么（只追加，不能修改或删除；邮箱已打码）。")

with session() as s:
    choices = audit_log.audit_choices(s, actor)

who_col, action_col, entity_col = st.columns(3)
who = who_col.selectbox("操作人", [ALL, *choices["actors"]], key="audit_actor",
                        format_func=lambda n: audit_log.mask_text(n) if n else "全部")
action = action_col.selectbox("操作", [ALL, *choices["actions"]], key="audit_action",
                              format_func=lambda a: f"{audit_log.action_label(a)}（{a}）" if a else "全部")
entity = entity_col.selectbox("对象", [ALL, *choices["entities"]], key="audit_entity",
                              format_func=lambda e: e or "全部")
key_col, start_col, end_col = st.columns(3)
entity_key = key_col.text_input("对象编号（完全一致）", key="audit_entity_key").strip()
start = start_col.date_input("开始日期（北京时间，含）", value=None, key="audit_start")
end = end_col.date_input("结束日期（北京时间，含）", value=None, key="audit_end")
filters = audit_log.AuditFilter(actor=who or None, action=action or None, entity=entity or None,
                                entity_key=entity_key or None, start=start, end=end)

try:
    with session() as s:
        first = audit_log.audit_page(s, actor, filters, limit=PAGE_SIZE, offset=0)
except audit_log.AuditFilterError as exc:
    st.error(str(exc))
    st.stop()
pages = max(1, math.ceil(first.total / PAGE_SIZE))
chosen = st.pagination(pages, key=f"audit-page-{hash(filters)}") if pages > 1 else 1
if chosen == 1:
    page = first
else:
    with session() as s:
        page = audit_log.audit_page(s, actor, filters, limit=PAGE_SIZE, offset=(chosen - 1) * PAGE_SIZE)

if not page.rows:
    st.info("没有符合条件的审计记录。")
else:
    st.caption(f"共 {page.total:,} 条，第 {page.offset + 1:,}–{page.offset + len(page.rows):,} 条（最新在前）")
    st.dataframe(pd.DataFrame([{
        "编号": r["id"], "时间": time_text(r["at"], seconds=True), "操作人": r["actor"],
        "角色": ROLES.zh(r["role"]) if r["role"] else "", "操作": r["label"], "对象": r["entity"],
        "对象编号": r["entity_key"] or "", "原因": r["reason"], "变更前": r["before"], "变更后": r["after"],
    } for r in page.rows]), hide_index=True, width="stretch")


def exported(suffix: str) -> bytes:
    with session() as s:
        return audit_log.export_bytes(s, actor, filters, suffix)


left, right = st.columns(2)
left.download_button("下载筛选结果（XLSX）", partial(exported, ".xlsx"), file_name="审计日志.xlsx", mime=XLSX,
                     key="audit_xlsx", on_click="ignore", disabled=not page.total)
right.download_button("下载筛选结果（CSV）", partial(exported, ".csv"), file_name="审计日志.csv", mime="text/csv",
                      key="audit_csv", on_click="ignore", disabled=not page.total)
