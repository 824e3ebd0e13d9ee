"""What a direct URL to a page the signed-in role may not see shows: a clear refusal, nothing of the page."""
from __future__ import annotations

import streamlit as st

from tracker.vocab import ROLES
from views.common import current_actor

actor = current_actor()
st.title("无权访问")
st.error(f"您的角色（{ROLES.zh(actor.role) if actor else '未登录'}）不能查看此页面；请从左侧菜单选择可用的页面。"
         " / Your role may not see this page: choose one from the menu.")
