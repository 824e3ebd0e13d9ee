"""修改密码 / change my password. After an administrator's reset it is the only page (app.py) until the change."""
from __future__ import annotations

import streamlit as st

from tracker.users import UserError, change_own_password
from views.actions import flash, say
from views.common import current_actor, must_change_password, session
from views.pages import PASSWORD_PAGE

actor = current_actor()
forced = must_change_password()
st.title("修改密码")
flash()
if forced:
    st.warning("管理员已重置您的密码：请先设置新密码，之后才能使用其他页面。当前密码一栏填写管理员给您的一次性密码。")
with st.form("password", clear_on_submit=True):
    current = st.text_input("当前密码", type="password")
    new = st.text_input("新密码（至少 8 位）", type="password")
    repeated = st.text_input("再次输入新密码", type="password")
    submitted = st.form_submit_button("保存", type="primary")
if submitted:
    try:
        with session() as s:
            change_own_password(s, actor, current, new, repeated)
    except UserError as exc:
        st.error(str(exc).split(" / ")[0])
    else:
        if forced:  # the whole menu comes back on the next run, which opens 修改密码 itself to say so
            say("success", "密码已修改，现在可以使用全部页面；下次登录请使用新密码。")
            st.switch_page(st.Page(PASSWORD_PAGE.file, url_path=PASSWORD_PAGE.url_path))
        st.success("密码已修改，下次登录请使用新密码。")
