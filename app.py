"""满天星 Tracker — the Streamlit app's router: a sign-in gate, then navigation by role. Pages live in views/."""
from __future__ import annotations

import streamlit as st

from views.common import ROLE_LABELS, recheck_actor, sign_out

st.set_page_config(page_title="满天星 Tracker", page_icon="✨", layout="wide")

actor = recheck_actor()
if actor is None:
    pages = [st.Page("views/login.py", title="登录", icon="🔑", url_path="login", default=True)]
else:
    pages = [st.Page("views/overview.py", title="总览", icon="📊", url_path="overview", default=True)]
    with st.sidebar:
        st.caption(f"{actor.name}（{ROLE_LABELS[actor.role]}）")
        if st.button("退出登录", key="sign_out"):
            sign_out()
            st.rerun()

st.navigation(pages).run()
