"""修改密码 / change my password."""
from __future__ import annotations

import streamlit as st

from tracker.users import UserError, change_own_password
from views.common import current_actor, session

actor = current_actor()
st.title("修改密码")
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
        st.success("密码已修改，下次登录请使用新密码。")
