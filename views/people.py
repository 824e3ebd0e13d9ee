"""人员与组织 / people and organisations: search people (paged by the database), one person's accounts, addresses
(masked unless an administrator reveals them, which is audited), affiliations over time and the rule behind each join.
Administrators correct — merge, split, bot flag, suggestions, domain maps, organisation merges — each with a reason,
after a confirmation, through tracker.people.changes.apply_change (the correction, then a resolution that refreshes
the metrics built on those people, in one transaction: what `mtx people ...` and `mtx orgs ...` do). Evaluators read."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from collector import registry
from tracker import vocab
from tracker.config import ConfigError, ConfigFileError
from tracker.formatting import NONE, date_text, time_text
from tracker.people import corrections as C
from tracker.people.changes import apply_change
from tracker.people.queries import list_suggestions, may_read, reveal_person, search_people, show_person
from tracker.people.resolve import organisation_names
from tracker.people.rules import INDIVIDUAL
from views import figures
from views.actions import confirm, flash, open_question, run_step
from views.common import config_dir, current_actor, data_versions, database_url, session

PAGE_SIZE = 50
REVEALED = "people_revealed"  # the person whose full addresses an administrator asked for (audited once per ask)
REFUSALS = (C.PeopleError, LookupError)
REASON = "原因（必填，记入审计日志）"
INDIVIDUAL_LABEL = vocab.ORGANISATION_KINDS.zh("individual")

actor = current_actor()
admin = actor.role == "admin"
st.title("人员与组织")
flash()


versions = data_versions()
try:
    config = figures.configuration(str(config_dir()), versions[1])
except ConfigError as exc:
    st.error("配置有误，无法显示本页：请运行 `mtx config check` 查看并修正。\n\n" + str(exc))
    st.stop()
except ConfigFileError as exc:
    st.error(getattr(exc, "zh", None) or str(exc))
    st.stop()
known = organisation_names(config.organisations)


def resolved_text(report) -> str:
    return (f"重新识别：{report.people:,} 人，新增 {len(report.created)}，变化 {len(report.changed)}，"
            f"并入他人 {len(report.merged_away)}")


def change(question: str, step, done: str, reason: str) -> None:
    """Ask first; then the correction and a resolution in one transaction (as the command line makes them)."""
    def finished(out) -> str:
        st.session_state.pop(REVEALED, None)
        st.cache_data.clear()  # other pages' cached figures count these people
        correction, report = out
        return f"{done}（更正 {correction.id}）。{resolved_text(report)}"

    confirm(question, lambda s: apply_change(s, actor, config, step, reason=reason, require_reason=True), finished,
            REFUSALS)


def yes(flag: bool) -> str:
    return "是" if flag else ""


def table(rows: list[dict], empty: str) -> None:
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.caption(empty)


# --- people -------------------------------------------------------------------------------------------------------

def people_section() -> None:
    text = st.text_input("搜索人员（姓名、账号或邮箱中包含）", key="people_search",
                         placeholder="例如 zhang、gitcode:wangwu、@huawei.com")
    with session() as s:
        first = search_people(s, actor, text, limit=PAGE_SIZE, offset=0)
    pages = max(1, math.ceil(first.total / PAGE_SIZE))
    chosen = st.pagination(pages, key=f"people-page-{text}") if pages > 1 else 1
    if chosen == 1:
        page = first
    else:
        with session() as s:
            page = search_people(s, actor, text, limit=PAGE_SIZE, offset=(chosen - 1) * PAGE_SIZE)
    if not page.rows:
        st.info("没有符合条件的人员。" if text else "还没有人员：采集后运行 `mtx people resolve`。")
        return
    st.caption(f"共 {page.total:,} 人，第 {page.offset + 1:,}–{page.offset + len(page.rows):,} 人 · 邮箱已打码 · "
               "提交数为全部时间、不含合并提交；机器人不计（—）")
    st.dataframe(pd.DataFrame([{
        "编号": r["id"], "姓名": r["name"],
        "类别": "机器人" if r["is_bot"] else ("匿名" if r["anonymous"] else ""),
        "账号": "、".join(r["accounts"]), "邮箱": "、".join(r["emails"]),
        "提交数": NONE if r["commits"] is None else f"{r['commits']:,}",
    } for r in page.rows]), hide_index=True, width="stretch")
    names = {r["id"]: r["name"] for r in page.rows}
    wanted = st.query_params.get("person")
    if wanted and wanted.isdigit() and int(wanted) not in names:
        names = {int(wanted): f"编号 {wanted}", **names}
    ids = list(names)
    index = ids.index(int(wanted)) if wanted and wanted.isdigit() else 0
    pid = st.selectbox("查看人员", ids, index=index, format_func=lambda i: f"{i} · {names[i]}", key="people_person")
    person_detail(pid)


def person_detail(pid: int) -> None:
    revealed = st.session_state.get(REVEALED)
    try:
        if revealed is not None and revealed["id"] == pid:
            data = revealed
        else:
            with session() as s:
                data = show_person(s, actor, str(pid))
    except REFUSALS as exc:
        st.error(str(exc))
        return
    st.subheader(f"{data['name']}（编号 {data['id']}）")
    facts = [f"提交 {data['commits']:,} 次", f"首次 {date_text(data['first_commit'])}",
             f"最近 {date_text(data['last_commit'])}", f"当前组织：{data['organisation'] or INDIVIDUAL_LABEL}"]
    if data["is_bot"]:
        facts.append(f"机器人（{data['bot_reason'] or '管理员标记'}）")
    if data["anonymous"]:
        facts.append("匿名贡献者（地址不能识别任何人，不与他人合并）")
    st.caption(" · ".join(facts))
    if admin:
        if data is revealed:
            st.warning("正在显示完整邮箱（已记入审计日志）。")
            if st.button("隐藏完整邮箱", key="people_hide"):
                st.session_state.pop(REVEALED, None)
                st.rerun()
        elif st.button("显示完整邮箱（记入审计日志）", key="people_reveal"):
            shown = run_step(lambda s: reveal_person(s, actor, str(pid)), "已显示完整邮箱，本次查看已记入审计日志",
                             REFUSALS)
            if shown is not None:
                st.session_state[REVEALED] = shown
            st.rerun()
    st.markdown("**账号**")
    table([{"平台": registry.label(a["platform"]), "登录名": a["login"], "名称": a["name"] or "",
            "平台标记为机器人": yes(a["platform_bot"]), "归属规则": vocab.JOIN_RULES.zh(a["rule"]),
            "依据": a["via"] or ""} for a in data["accounts"]], "没有平台账号。")
    st.markdown("**提交身份（邮箱）**")
    table([{"邮箱": i["email"] or "（无邮箱）", "提交署名": i["name"] or "",
            "组织": i["organisation"] or INDIVIDUAL_LABEL, "归属规则": vocab.JOIN_RULES.zh(i["rule"]),
            "依据": i["via"] or ""} for i in data["identities"]], "没有提交身份。")
    st.markdown("**任职（按日期）**")
    table([{"组织": f["organisation"], "开始": date_text(f["start"]), "结束（不含）": date_text(f["end"]),
            "来源": vocab.AFFILIATION_SOURCES.zh(f["source"])} for f in data["affiliations"]],
          "没有带日期的任职：按每次提交邮箱的域名归属组织。")
    st.markdown("**更正记录**")
    table([{"编号": c["id"], "种类": vocab.CORRECTION_KINDS.zh(c["kind"]), "对象": c["subject"],
            "另一方 / 组织": c["object"] or "", "机器人": NONE if c["is_bot"] is None else ("是" if c["is_bot"] else "否"),
            "操作人": c["actor"], "原因": c["reason"] or "", "时间": time_text(c["at"])} for c in data["corrections"]],
          "没有管理员更正。")
    if data["suggestions"]:
        st.markdown("**涉及此人的合并建议**（见「合并建议」）")
        table([{"编号": x["id"], "甲": x["a"], "乙": x["b"], "规则": vocab.JOIN_RULES.zh(x["rule"])}
               for x in data["suggestions"]], "")
    if admin:
        corrections_forms(data)


def corrections_forms(data: dict) -> None:
    st.markdown("**更正此人**（每项更正须说明原因，写入审计日志，并在重新采集后依然有效）")
    merge_col, split_col, bot_col = st.columns(3)
    with merge_col:
        merge_form(data["id"], data["name"])
    with split_col:
        split_form(data["id"], data["name"])
    with bot_col:
        bot_form(data["id"], data["name"], data["is_bot"])


def merge_form(pid: int, name: str) -> None:
    with st.form("people_merge"):
        other = st.text_input("与之合并的另一人（编号、邮箱或 平台:登录名）")
        reason = st.text_input(REASON, key="merge_reason")
        if st.form_submit_button("合并"):
            change(f"将 {name}（编号 {pid}）与 {other} 合并为一人。",
                   lambda s, a, c: C.merge(s, a, str(pid), other, reason), f"已合并 {pid} 与 {other}", reason)


def split_form(pid: int, name: str) -> None:
    with session() as s:
        labels = dict(C.members(s, actor, pid))  # EMAIL or PLATFORM:LOGIN -> the same, masked
    with st.form("people_split"):
        part = st.selectbox("拆出的邮箱或账号", list(labels), format_func=labels.get)
        reason = st.text_input(REASON, key="split_reason")
        if st.form_submit_button("拆分", disabled=not labels):
            change(f"把 {labels.get(part)} 从 {name}（编号 {pid}）中拆出，从此单独计算。",
                   lambda s, a, c: C.split(s, a, str(pid), part, reason), f"已拆出 {labels.get(part)}", reason)


def bot_form(pid: int, name: str, is_bot_now: bool) -> None:
    with st.form("people_bot"):
        flag = st.radio("判定", ["机器人", "不是机器人"], index=1 if is_bot_now else 0, horizontal=True)
        reason = st.text_input(REASON, key="bot_reason")
        if st.form_submit_button("标记"):
            is_bot = flag == "机器人"
            change(f"将 {name}（编号 {pid}）标记为{flag}（优先于自动规则）。",
                   lambda s, a, c: C.set_bot(s, a, str(pid), is_bot, reason), f"已标记 {pid} 为{flag}", reason)


# --- suggestions --------------------------------------------------------------------------------------------------

def suggestions_section() -> None:
    with session() as s:
        rows = list_suggestions(s, actor)
    st.caption("自动规则不会单独合并的情形（同一平台两个账号、两个平台同一登录名）：由管理员接受（合并）或拒绝（保持分开）。")
    table([{"编号": r["id"], "甲": r["a"], "乙": r["b"], "规则": vocab.JOIN_RULES.zh(r["rule"]),
            "说明": r["detail"] or ""} for r in rows], "没有待处理的合并建议。")
    if not admin or not rows:
        return
    labels = {r["id"]: f"{r['id']} · {r['a']} + {r['b']}" for r in rows}
    with st.form("people_suggestion"):
        number = st.selectbox("建议", list(labels), format_func=labels.get)
        accept = st.radio("处理", ["接受（合并为一人）", "拒绝（保持分开）"], horizontal=True).startswith("接受")
        reason = st.text_input(REASON, key="suggestion_reason")
        if st.form_submit_button("处理建议"):
            change(f"{'接受' if accept else '拒绝'}建议 {labels[number]}。",
                   lambda s, a, c: C.settle_suggestion(s, a, number, accept, reason),
                   f"建议 {number} 已{'接受' if accept else '拒绝'}", reason)


# --- organisations ------------------------------------------------------------------------------------------------

def organisations_section() -> None:
    may_read(actor)
    with st.spinner("正在统计组织…"):
        rows = figures.organisations(database_url(), figures.configured_domains(config), versions)
    st.caption("贡献者与提交不含机器人。未验证的组织以未登记的邮箱域名命名，照常计数，直到管理员把域名映射到组织。")
    table([{"组织": INDIVIDUAL_LABEL if r["id"] is None else r["name"],
            "类型": vocab.ORGANISATION_KINDS.zh(r["kind"]), "已验证": "是" if r["verified"] else "否（按域名）",
            "重庆本地": yes(r["chongqing_local"]), "贡献者": r["contributors"], "提交": r["commits"],
            "域名": "、".join(r["domains"]), "已并入": r["merged_into"] or ""} for r in rows], "还没有组织。")
    if not admin:
        return
    unverified = [d for r in rows if r["id"] is not None and not r["verified"] for d in r["domains"]]
    targets = [r["name"] for r in rows if r["id"] is not None and r["verified"] and not r["merged_into"]]
    names = [r["name"] for r in rows if r["id"] is not None]
    map_col, merge_col = st.columns(2)
    with map_col:
        map_form(unverified, targets)
    with merge_col:
        organisations_merge_form(names)


def map_form(unverified: list[str], targets: list[str]) -> None:
    with st.form("orgs_map"):
        st.markdown("**映射域名到组织**")
        domain = st.selectbox("未验证的域名", unverified or [None], format_func=lambda d: d or "（没有未验证的域名）")
        typed = st.text_input("或其他域名（填写则以此为准）")
        target = st.selectbox("归属组织", [*targets, INDIVIDUAL],
                              format_func=lambda n: f"{INDIVIDUAL_LABEL}（不计组织）" if n == INDIVIDUAL else n)
        reason = st.text_input(REASON, key="map_reason")
        if st.form_submit_button("映射"):
            chosen = typed.strip() or domain or ""
            label = INDIVIDUAL_LABEL if target == INDIVIDUAL else target
            change(f"域名 {chosen}（及其子域名）从此归属 {label}。",
                   lambda s, a, c: C.map_domain(s, a, chosen, target, known, reason), f"已映射 {chosen} → {label}",
                   reason)


def organisations_merge_form(names: list[str]) -> None:
    with st.form("orgs_merge"):
        st.markdown("**合并两个组织**")
        source = st.selectbox("并入的组织（此后不再单独计数）", names, key="merge_source")
        into = st.selectbox("保留的组织", names, index=min(1, len(names) - 1), key="merge_target")
        reason = st.text_input(REASON, key="orgs_merge_reason")
        if st.form_submit_button("合并组织"):
            change(f"组织 {source} 从此算作 {into}（其域名、任职与人员）。",
                   lambda s, a, c: C.merge_organisations(s, a, source, into, known, reason),
                   f"已把 {source} 并入 {into}", reason)


tabs = st.tabs(["人员", "合并建议", "组织与域名"])
with tabs[0]:
    people_section()
with tabs[1]:
    suggestions_section()
with tabs[2]:
    organisations_section()
open_question()
