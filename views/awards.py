"""我的奖励 / my awards: an enterprise's ceiling, what counts against it and what is left, each certificate's award
and why, and its statement (the file `mtx awards export --enterprise` writes). Only ever the signed-in enterprise."""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from tracker.formatting import NONE, date_text, yuan
from tracker.ledger.my_awards import balance_sentence, ceiling_used_share, my_awards, statement_bytes
from tracker.ledger.rules import ceiling_text, last_award_text, rules_from_config
from tracker.vocab import AWARD_STATUSES, CERT_STATUSES, COUNTING_AWARD_LABEL
from tracker.yamlsource import ConfigError
from views.actions import REFUSALS
from views.common import config_dir, current_actor, database_url, session

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

actor = current_actor()
st.title("我的奖励")
try:
    rules = rules_from_config(config_dir())
except ConfigError:
    st.error("奖励规则（awards.yaml）有误，暂时无法显示奖励；请联系管理员。")
    st.stop()
try:
    with session() as s:
        data = my_awards(s, actor, rules)
except REFUSALS as exc:
    st.error(getattr(exc, "zh", str(exc)))
    st.stop()

st.subheader(data["enterprise"])
st.caption(f"统一社会信用代码 {data['uscc']}")

in_yuan = data["ceiling_unit"] == "yuan"


def limit(value: int) -> str:
    return yuan(value) if in_yuan else f"{value:,} 个产品"


share = ceiling_used_share(data)
st.progress(share, text=f"上限已使用 {share:.0%}")
st.markdown(balance_sentence(data))
cols = st.columns(4)
cols[0].metric("企业上限", limit(data["ceiling"]))
cols[1].metric(f"已计入上限（{COUNTING_AWARD_LABEL}）", yuan(data["awarded"]))
cols[2].metric("剩余额度", limit(data["remaining"]))
cols[3].metric("再有一个首次认证产品可得", yuan(data["next_product_amount"]))
st.caption(f"其中{AWARD_STATUSES.zh('computed')} {yuan(data['computed'])} · {AWARD_STATUSES.zh('approved')} "
           f"{yuan(data['approved'])} · {AWARD_STATUSES.zh('paid')} {yuan(data['paid'])}；"
           f"{AWARD_STATUSES.zh('to_recover')} {yuan(data['to_recover'])}（不计入上限）")
st.caption(f"规则：{ceiling_text(rules)}；{last_award_text(rules)}；每个产品只奖励首次适配认证一次（规则集 "
           f"{data['rule_set_version']}）")

st.subheader("证书与奖励")
if not data["certificates"]:
    st.info("本企业还没有证书记录。")
else:
    st.dataframe(pd.DataFrame([{
        "产品": c["product_name"], "产品类型": c["product_type"], "证书编号": c["cert_no"],
        "系统版本": c["os_version"] or NONE, "通过日期": date_text(c["pass_date"]),
        "证书状态": CERT_STATUSES.zh(c["cert_status"]),
        "首次认证": "是" if c["first_time"] else f"否（{c['first_time_note']}）",
        "奖励金额": yuan(c["amount"]), "奖励状态": AWARD_STATUSES.zh(c["award_status"]),
        "计入上限": "是" if c["counts"] else "否", "原因": c["reason"] or NONE,
    } for c in data["certificates"]]), hide_index=True, width="stretch")


def _statement(url: str, folder: str, signed_in) -> bytes:
    """Built when the button is clicked, outside the page run: the account is checked again first."""
    from tracker import db as dbm
    from tracker.ledger.rules import rules_from_config as load_rules
    from tracker.users import session_actor

    with dbm.session_scope(url) as s:
        still = session_actor(s, signed_in)
        if still is None:
            raise PermissionError("the account changed since the page was shown")
        return statement_bytes(s, still, load_rules(folder))


st.download_button("下载对账单（XLSX）", partial(_statement, database_url(), str(config_dir()), actor),
                   file_name=f"对账单-{data['uscc']}.xlsx", mime=XLSX, on_click="ignore", key="statement",
                   help="与 mtx awards export --enterprise 生成的文件相同；只含本企业")
