"""用户管理 / accounts (administrators): every user with role, enterprise or organisation, state and last sign-in; add a
user, reset a password (a one-time password shown once), unlock, deactivate or activate, link an evaluator to its
organisation. Each change is asked first and made by tracker.user_admin (what `mtx users ...` calls), audited."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tracker import user_admin as admin
from tracker.formatting import NONE, time_text
from tracker.vocab import ROLES
from views.actions import confirm, flash, open_question
from views.common import current_actor, session

ONE_TIME = "users_one_time_password"  # (username, password) to show once, on the run after the change
NO_CHOICE = ""

actor = current_actor()
st.title("用户管理")
flash()

shown = st.session_state.pop(ONE_TIME, None)  # popped: the password is on the page for this one run only
if shown:
    username, password = shown
    st.warning(f"用户 {username} 的一次性密码（只显示这一次，请现在告知本人；首次登录后须修改）：")
    st.code(password, language=None)


def remember_password(out: tuple[str, str]) -> str:
    """After a reset or an addition: keep (username, one-time password) for the next run to show once."""
    st.session_state[ONE_TIME] = out
    return f"已为 {out[0]} 生成一次性密码"


def added(s, username, role, uscc, organisation, display_name) -> tuple[str, str]:
    user, password = admin.add_user(s, actor, username, role, enterprise_uscc=uscc or None,
                                    organisation=organisation or None, display_name=display_name.strip() or None)
    return user.username, password


def state_text(row: dict) -> str:
    if not row["active"]:
        return "已停用"
    if row["locked"]:
        return f"已锁定（至 {time_text(row['locked_until'])}）"
    if row["wait_seconds"]:
        return f"登录限速（{row['wait_seconds']} 秒后可再试）"
    return "正常"


with session() as s:
    rows = admin.user_table(s, actor)
    enterprises = admin.enterprise_choices(s, actor)
    organisations = admin.organisation_names(s, actor)

st.dataframe(pd.DataFrame([{
    "用户名": r["username"], "显示名称": r["display_name"] or "", "角色": ROLES.zh(r["role"]),
    "企业": f"{r['enterprise']}（{r['uscc']}）" if r["enterprise"] else "",
    "所属组织": r["organisation"] or "", "状态": state_text(r), "连续失败": r["failed_logins"],
    "须修改密码": "是" if r["must_change_password"] else "",
    "最近登录": time_text(r["last_sign_in_at"]) if r["last_sign_in_at"] else f"{NONE}（未记录）",
    "创建时间": time_text(r["created_at"]),
} for r in rows]), hide_index=True, width="stretch")
st.caption(f"共 {len(rows)} 个用户。最近登录自迁移 0012 起记录；停用的账号不能登录，已打开的会话在下一次操作时结束。")

st.subheader("管理用户")
by_name = {r["username"]: r for r in rows}
chosen = st.selectbox("用户", list(by_name), key="users_chosen",
                      format_func=lambda n: f"{n}（{ROLES.zh(by_name[n]['role'])}，{state_text(by_name[n])}）")
if chosen:
    row = by_name[chosen]
    reset_col, unlock_col, active_col = st.columns(3)
    if reset_col.button("重置密码", key="users_reset", disabled=not row["active"]):
        confirm(f"为 {chosen} 生成一次性密码？原密码立即失效，{chosen} 下次登录后须先修改密码。",
                lambda s: (chosen, admin.reset_password(s, actor, chosen)), remember_password)
    if unlock_col.button("解除锁定", key="users_unlock", disabled=not (row["failed_logins"] or row["locked"])):
        confirm(f"解除 {chosen} 的登录锁定与限速？失败次数将清零。",
                lambda s: admin.unlock(s, actor, chosen), f"已解除 {chosen} 的锁定")
    if row["active"]:
        if active_col.button("停用账号", key="users_deactivate"):
            confirm(f"停用 {chosen}？其不能再登录，已打开的会话在下一次操作时结束。",
                    lambda s: admin.deactivate(s, actor, chosen), f"已停用 {chosen}")
    elif active_col.button("启用账号", key="users_activate"):
        confirm(f"启用 {chosen}？其可用原密码再次登录。", lambda s: admin.activate(s, actor, chosen), f"已启用 {chosen}")
    if row["role"] == "evaluator":
        with st.form("users_organisation"):
            options = [NO_CHOICE, *organisations]
            current = row["organisation"] if row["organisation"] in organisations else NO_CHOICE
            target = st.selectbox("所属组织（用于提示评审回避）", options, index=options.index(current),
                                  format_func=lambda n: n or "（无）")
            if st.form_submit_button("保存所属组织"):
                confirm(f"将 {chosen} 的所属组织设为 {target or '（无）'}？",
                        lambda s: admin.set_organisation(s, actor, chosen, target or None),
                        f"已将 {chosen} 的所属组织设为 {target or '（无）'}")

st.subheader("添加用户")
with st.form("users_add", clear_on_submit=False):
    username = st.text_input("用户名", key="users_new_name")
    display_name = st.text_input("显示名称（可不填）", key="users_new_display")
    role = st.selectbox("角色", list(ROLES.values), format_func=ROLES.zh, key="users_new_role")
    names = dict(enterprises)
    uscc = st.selectbox("所属企业（企业用户必填）", [NO_CHOICE, *names], key="users_new_enterprise",
                        format_func=lambda u: f"{names[u]}（{u}）" if u else "（不适用）")
    organisation = st.selectbox("所属组织（评审专家可选，用于提示回避）", [NO_CHOICE, *organisations],
                                key="users_new_organisation", format_func=lambda n: n or "（无）")
    if st.form_submit_button("添加用户", type="primary"):
        confirm(f"添加{ROLES.zh(role)} {username.strip()}？将生成一次性密码，首次登录后须修改。",
                lambda s: added(s, username, role, uscc, organisation, display_name), remember_password)
st.caption("新用户与重置后的密码都是一次性密码（由系统随机生成，只显示一次）；命令行 mtx users add 可直接设定密码。")
open_question()
