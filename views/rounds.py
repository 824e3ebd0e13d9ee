"""评审轮次 / evaluation rounds: an expert's candidates and score entry; the office's lifecycle, results and files."""
from __future__ import annotations

import streamlit as st

from tracker import vocab
from tracker.rounds.summary import list_rounds
from views.actions import flash
from views.common import current_actor, session
from views.round_parts import expert_section, office_section, status_steps

actor = current_actor()
st.title("评审轮次")
flash()
with session() as s:
    rounds = list_rounds(s, actor)
if not rounds:
    st.info("还没有评审轮次。" if actor.role == "admin" else "您不在任何评审轮次的专家组中；如有疑问请联系评审办公室。")
    if actor.role == "admin":
        office_section(actor, None)
    st.stop()

labels = {r["id"]: f"{r['year']}/{r['name']}（{r['status_label']}）" for r in rounds}
wanted = st.query_params.get("round")
ids = list(labels)
index = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in ids else 0
round_id = st.selectbox("轮次", ids, index=index, format_func=labels.get)
head = next(r for r in rounds if r["id"] == round_id)
st.caption(f"模型 {head['model']['name']}（sha256 {head['model']['hash'][:12]}）· 数据截止 {head['cutoff']} · "
           f"至少 {head['min_experts']} 位专家 · 汇总方式 {vocab.AGGREGATIONS.zh(head['aggregation'])}")
status_steps(head["status"])

if actor.role == "evaluator":
    expert_section(actor, round_id)
else:
    office_section(actor, round_id)
