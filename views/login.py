"""登录 / sign in."""
from __future__ import annotations

import streamlit as st

from tracker.access import AccessDenied
from tracker.users import authenticate
from views.common import database_url, sign_in, take_sign_out_notice

st.title("满天星 Tracker")
st.caption("重庆市软件和信息服务业“满天星”行动计划 · 开源社区评估与开源鸿蒙认证奖励台账")

notice = take_sign_out_notice()
if notice:
    st.warning(notice.zh)

with st.form("login"):
    username = st.text_input("用户名")
    password = st.text_input("密码", type="password")
    submitted = st.form_submit_button("登录", type="primary")

if submitted:
    try:
        actor = authenticate(database_url(), username, password)  # commits the attempt itself, failed or not
    except AccessDenied as exc:
        st.error(exc.zh)
    else:
        sign_in(actor)
        st.rerun()
