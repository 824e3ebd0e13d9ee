"""满天星 Tracker — the Streamlit app's router: a sign-in gate, then navigation by role. Pages live in views/."""
from __future__ import annotations

import streamlit as st

from views.common import ROLE_LABELS, config_dir, database_url, must_change_password, recheck_actor, sign_out
from views.figures import prepare_process, start_warm_up
from views.pages import PASSWORD_PAGE, allowed, refused

st.set_page_config(page_title="满天星 Tracker", page_icon="✨", layout="wide")

prepare_process()  # once per server: imports and the sign-in's stand-in hash, while the sign-in page is read
start_warm_up(database_url(), str(config_dir()))  # the shared figures, computed before the first click needs them
actor = recheck_actor()
if actor is None:
    pages = [st.Page("views/login.py", title="登录", icon=":material/login:", url_path="login", default=True)]
elif must_change_password():
    # a password an administrator reset: 修改密码 only, whatever address is asked for, until it is changed
    pages = [st.Page(PASSWORD_PAGE.file, title=PASSWORD_PAGE.title, icon=PASSWORD_PAGE.icon,
                     url_path=PASSWORD_PAGE.url_path, default=True)]
    pages += [st.Page(PASSWORD_PAGE.file, title=PASSWORD_PAGE.title, url_path=p.url_path, visibility="hidden")
              for p in allowed(actor.role) if p is not PASSWORD_PAGE]
else:
    pages = [st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path, default=(n == 0))
             for n, p in enumerate(allowed(actor.role))]
if actor is not None:
    # a page the role may not see is not in its menu; its address answers with a refusal, never the page
    pages += [st.Page("views/refused.py", title=p.title, url_path=p.url_path, visibility="hidden")
              for p in refused(actor.role)]
    with st.sidebar:
        st.caption(f"{actor.name}（{ROLE_LABELS[actor.role]}）")
        if st.button("退出登录", key="sign_out"):
            sign_out()
            st.rerun()

st.navigation(pages).run()
