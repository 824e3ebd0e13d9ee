"""认证台账 / the certificate ledger for the award office: import (a dry run first, written only once an administrator
confirms a file without errors, then awards recomputed), the certificate list one page at a time with a detail, and
approve, pay, revoke and the 公示 list. Evaluators read; every change is a tracker function with the signed-in user."""
from __future__ import annotations

import hashlib
import math

import pandas as pd
import streamlit as st

from tracker.enterprises import NotFound
from tracker.formatting import NONE, date_text, time_text, yuan
from tracker.ledger import office
from tracker.ledger.rules import ceiling_text, last_award_text
from tracker.vocab import AWARD_STATUSES, CERT_STATUSES, ROLES
from tracker.yamlsource import ConfigError
from views.actions import REFUSALS, confirm, flash, open_question
from views.common import config_dir, current_actor, session

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
PAGE_SIZES = (20, 50, 100)
REFUSED = REFUSALS + (ConfigError, NotFound)
CHECKED, LAST_IMPORT, UPLOAD_ROUND = "ledger_checked", "ledger_last_import", "ledger_upload_round"


def zh(message: str) -> str:
    """The Chinese half of a tracker message written "中文 / English"."""
    return message.split(" / ")[0]


def pager(total: int, size: int, key: str) -> int:
    pages = max(1, math.ceil(total / size))
    return st.pagination(pages, key=key) if pages > 1 else 1


# --- import (administrators) ------------------------------------------------------------------------------------------

def counts_text(report) -> str:
    return (f"{report.rows:,} 行；新企业 {report.enterprises_created:,} 家（更新 {report.enterprises_updated:,} 家），"
            f"新产品 {report.products_created:,} 个，新证书 {report.certificates_created:,} 张（其中复评 "
            f"{report.recertifications:,} 张），已登记且未变 {report.certificates_unchanged:,} 张"
            + (f"；{len(report.warnings):,} 个警告" if report.warnings else ""))


def issues_table(report) -> pd.DataFrame:
    return pd.DataFrame([{"行": i.row, "列": i.column, "值": i.value, "级别": "错误" if i.severity == "error" else "警告",
                          "问题": i.message, "改正": i.fix, "代码": i.code} for i in report.issues])


def imported(out: office.ImportOutcome):
    """After a confirmed import: keep its summary for the page, clear the upload, say what changed."""
    st.session_state[LAST_IMPORT] = {"report": out.report.summary(), "recomputed": out.recomputed}
    st.session_state.pop(CHECKED, None)
    st.session_state[UPLOAD_ROUND] = st.session_state.get(UPLOAD_ROUND, 0) + 1
    return "已导入：" + counts_text(out.report)


def last_import() -> None:
    last = st.session_state.get(LAST_IMPORT)
    if not last:
        return
    r, a = last["report"], last["recomputed"]
    st.markdown(f"**上次导入：{r['file']}**")
    rows = [("数据行", r["rows"]), ("新企业", r["enterprises_created"]), ("更新企业", r["enterprises_updated"]),
            ("新产品", r["products_created"]), ("新证书", r["certificates_created"]),
            ("其中复评", r["recertifications"]), ("已登记且未变的证书", r["certificates_unchanged"]),
            ("警告", r["warnings"])]
    if a is None:
        rows.append(("奖励重新核算", "未进行（没有写入新数据）"))
    else:
        rows += [("奖励：新核算", a["created"]), ("奖励：金额或状态改变", a["changed"]), ("奖励：未变", a["unchanged"]),
                 ("奖励：已冻结（已批准、已拨付等）", a["frozen"]), ("计入上限合计（全部企业）", yuan(a["awarded_total"])),
                 ("规则集版本", a["rule_set_version"])]
    st.dataframe(pd.DataFrame([{"项目": k, "结果": str(v)} for k, v in rows]), hide_index=True, key="import_summary")


def import_section(actor) -> None:
    st.subheader("导入证书")
    st.caption("上传项目办的证书表（XLSX 或 CSV，表头在第 1 行）。先逐行检查，不写入任何数据；没有错误时才可确认导入，"
               "导入后按规则重新核算全部企业的奖励（与 mtx certs import 相同）。")
    left, right, _ = st.columns([1, 1, 2])
    left.download_button("下载模板（XLSX）", lambda: office.template_file(".xlsx"), file_name="证书导入模板.xlsx",
                         mime=XLSX, key="template_xlsx", on_click="ignore")
    right.download_button("下载模板（CSV）", lambda: office.template_file(".csv"), file_name="证书导入模板.csv",
                          mime=CSV, key="template_csv", on_click="ignore")
    last_import()
    upload = st.file_uploader("证书文件", type=["xlsx", "csv"],
                              key=f"ledger_upload_{st.session_state.get(UPLOAD_ROUND, 0)}")  # a new key clears it
    if upload is None:
        return
    name, data = upload.name, upload.getvalue()
    fingerprint = (name, hashlib.sha256(data).hexdigest())
    checked = st.session_state.get(CHECKED)
    if checked is None or checked[0] != fingerprint:
        try:
            with st.spinner("正在逐行检查…"), session() as s:
                report = office.check_file(s, actor, name, data, config_dir())
        except REFUSED as exc:
            st.error(getattr(exc, "zh", None) or str(exc))
            return
        st.session_state[CHECKED] = checked = (fingerprint, report)
    report = checked[1]
    if report.sheet:
        st.caption(f"读取工作表：{report.sheet}")
    if report.errors:
        st.error(f"发现 {len(report.errors)} 个错误（{len(report.warnings)} 个警告）：文件未导入，未写入任何数据。"
                 "请按下表改正后重新上传。")
    else:
        st.success("检查通过，尚未写入：" + counts_text(report))
    if report.issues:
        st.dataframe(issues_table(report), hide_index=True, width="stretch", key="import_issues")
        stem = name.rsplit(".", 1)[0]
        left, right, _ = st.columns([1, 1, 2])
        left.download_button("下载问题清单（XLSX）", lambda: office.report_file(report, ".xlsx"),
                             file_name=f"{stem}-问题清单.xlsx", mime=XLSX, key="report_xlsx", on_click="ignore")
        right.download_button("下载问题清单（CSV）", lambda: office.report_file(report, ".csv"),
                              file_name=f"{stem}-问题清单.csv", mime=CSV, key="report_csv", on_click="ignore")
    if report.errors:
        return
    if not report.certificates_created and not report.enterprises_updated:
        st.info("文件中的证书均已登记且未变，导入不会改变任何数据。")
        return
    if st.button("确认导入", type="primary", key="import_confirm"):
        confirm(f"导入 {name}：新证书 {report.certificates_created} 张、新企业 {report.enterprises_created} 家、"
                f"新产品 {report.products_created} 个、更新企业 {report.enterprises_updated} 家；导入后按规则重新核算"
                "全部企业的奖励。", lambda s: office.import_file(s, actor, name, data, config_dir()), imported,
                (ConfigError, NotFound))


# --- the list and a certificate ---------------------------------------------------------------------------------------

def certificate_list(actor):
    """The filters and one page of certificates; the certificate number chosen for the detail, or None."""
    st.subheader("证书列表")
    with session() as s:
        choices = office.ledger_filters(s, actor)
    cols = st.columns([3, 2, 2, 2])
    enterprise = cols[0].text_input("企业（名称或统一社会信用代码的一部分）", key="f_enterprise")
    cert_status = cols[1].selectbox("证书状态", [None, *choices["cert_statuses"]], key="f_cert_status",
                                    format_func=lambda v: "全部" if v is None else CERT_STATUSES.zh(v))
    award_status = cols[2].selectbox("奖励状态", [None, *choices["award_statuses"]], key="f_award_status",
                                     format_func=lambda v: "全部" if v is None else AWARD_STATUSES.zh(v))
    district = cols[3].selectbox("区县", [None, *choices["districts"]], key="f_district",
                                 format_func=lambda v: "全部区县" if v is None else v)
    cols = st.columns([2, 2, 1, 3])
    passed_from = cols[0].date_input("通过日期自", value=None, key="f_from")
    passed_to = cols[1].date_input("通过日期至", value=None, key="f_to")
    size = cols[2].selectbox("每页", PAGE_SIZES, index=1, key="f_size")
    filters = dict(enterprise=enterprise, cert_status=cert_status, award_status=award_status, district=district,
                   passed_from=passed_from, passed_to=passed_to)
    with session() as s:
        first = office.certificate_page(s, actor, **filters, limit=size, offset=0)
    chosen = pager(first.total, size, key="certs-" + "-".join(str(v) for v in filters.values()) + f"-{size}")
    if chosen == 1:
        page = first
    else:
        with session() as s:
            page = office.certificate_page(s, actor, **filters, limit=size, offset=(chosen - 1) * size)
    if not page.rows:
        st.info("没有符合条件的证书。")
        return None
    st.caption(f"共 {page.total:,} 张证书，第 {page.offset + 1:,}–{page.offset + len(page.rows):,} 张 · 按企业、通过日期排列")
    st.dataframe(pd.DataFrame([{
        "企业": r["enterprise"], "统一社会信用代码": r["uscc"], "区县": r["district"] or NONE,
        "产品": r["product_name"], "类型": r["product_type"], "证书编号": r["cert_no"],
        "通过日期": date_text(r["pass_date"]), "系统版本": r["os_version"] or NONE,
        "证书状态": CERT_STATUSES.zh(r["cert_status"]), "奖励金额": yuan(r["award_amount"]),
        "奖励状态": AWARD_STATUSES.zh(r["award_status"]),
    } for r in page.rows]), hide_index=True, width="stretch", key="certificates")
    labels = {r["cert_no"]: f"{r['cert_no']} · {r['product_name']} · {r['enterprise']}" for r in page.rows}
    return st.selectbox("查看证书详情", list(labels), index=None, format_func=labels.get, key="detail_cert",
                        placeholder="选择本页的一张证书…")


def approved_text(outcomes):
    """(kind, text) for an approval run: refusals are committed (audited) but shown as warnings or an error."""
    done = [o for o in outcomes if o.approved]
    lines = [zh(o.message) for o in outcomes if not o.approved]
    if not done:
        return "error", "未批准：" + "；".join(lines)
    text = f"已批准 {len(done)} 项，合计 {yuan(sum(o.amount for o in done))}"
    return ("warning", text + "；未批准：" + "；".join(lines)) if lines else ("success", text)


def certificate_detail(actor, cert_no: str) -> None:
    try:
        with session() as s:
            detail = office.certificate_detail(s, actor, cert_no, office.configured_rules(config_dir()))
    except REFUSED as exc:
        st.error(getattr(exc, "zh", None) or str(exc))
        return
    c, b = detail["certificate"], detail["balance"]
    st.subheader(f"证书 {c['cert_no']}")
    left, right = st.columns(2)
    left.dataframe(pd.DataFrame([{"项目": k, "内容": v} for k, v in (
        ("企业", f"{c['enterprise']}（{c['uscc']}）"), ("区县", c["district"] or NONE),
        ("产品", f"{c['product_name']}（{c['product_type']}，{'首版次' if c['first_version'] else '非首版次'}）"),
        ("证书类型", c["cert_type"]), ("颁发机构", c["issuer"]),
        ("系统版本", f"{c['os_version'] or NONE}（API {c['api_level'] if c['api_level'] is not None else NONE}）"),
        ("通过日期", date_text(c["pass_date"])), ("证书状态", CERT_STATUSES.zh(c["cert_status"])),
        ("撤销", f"{time_text(c['revoked_at'])}：{c['revoked_reason']}" if c["revoked_at"] else NONE),
        ("继承自", c["derived_from"] or NONE), ("导入时间", time_text(c["imported_at"])))]),
        hide_index=True, width="stretch", key="detail_certificate")
    right.dataframe(pd.DataFrame([{"项目": k, "内容": v} for k, v in (
        ("奖励状态", AWARD_STATUSES.zh(c["award_status"])), ("奖励金额", yuan(c["award_amount"])),
        ("原因", c["reason"] or NONE), ("规则集版本", c["rule_set_version"] or NONE),
        ("批准人", c["decided_by"] or NONE), ("批准时间", time_text(c["decided_at"])),
        ("拨付时间", time_text(c["paid_at"])))]), hide_index=True, width="stretch", key="detail_award")
    in_yuan = b["ceiling_unit"] == "yuan"
    limit = (lambda v: yuan(v)) if in_yuan else (lambda v: f"{v:,} 个产品")
    cols = st.columns(5)
    cols[0].metric("企业上限", limit(b["ceiling"]))
    cols[1].metric("计入上限", yuan(b["awarded"]), help="已核算+已批准+已拨付")
    cols[2].metric(AWARD_STATUSES.zh("approved"), yuan(b["approved"]))
    cols[3].metric(AWARD_STATUSES.zh("paid"), yuan(b["paid"]))
    cols[4].metric("剩余额度", limit(b["remaining"]))
    st.markdown("**审计记录**")
    if detail["audit"]:
        st.dataframe(pd.DataFrame([{"时间": time_text(e["at"]), "操作人": e["actor"], "角色": ROLES.zh(e["role"]),
                                    "操作": e["label"], "变更": e["change"]} for e in detail["audit"]]),
                     hide_index=True, width="stretch", key="detail_audit")
    else:
        st.caption("没有审计记录。")
    if actor.role == "admin":
        certificate_actions(actor, c)


def certificate_actions(actor, c: dict) -> None:
    no, uscc = c["cert_no"], c["uscc"]
    st.markdown("**操作**")
    cols = st.columns(3)
    if c["award_status"] == "computed" and c["award_amount"]:
        if cols[0].button("批准本证书的奖励", key="approve_cert", type="primary"):
            confirm(f"批准证书 {no} 的奖励 {yuan(c['award_amount'])}？批准时先按规则重新核算该企业，只在不超过企业上限时"
                    "批准；批准后不再随重新核算改变。",
                    lambda s: office.approve(s, actor, config_dir(), cert_no=no), approved_text,
                    (ConfigError, NotFound))
    if cols[1].button("批准该企业全部待批准的奖励", key="approve_enterprise"):
        confirm(f"批准 {c['enterprise']}（{uscc}）全部已核算的奖励？每一项都只在不超过企业上限时批准。",
                lambda s: office.approve(s, actor, config_dir(), uscc=uscc), approved_text, (ConfigError, NotFound))
    if c["award_status"] == "approved":
        if cols[2].button("登记拨付", key="pay"):
            confirm(f"登记证书 {no} 的奖励 {yuan(c['award_amount'])} 已拨付？", lambda s: office.pay(s, actor, no),
                    lambda row: f"已登记拨付 {no}：{yuan(row['amount'])}", (NotFound,))
    if c["cert_status"] != "valid":
        return
    with st.form("revoke"):
        reason = st.text_input("撤销原因（必填）", key="revoke_reason")
        if st.form_submit_button("撤销证书"):
            if not reason.strip():
                st.error("撤销须写明原因。")
            else:
                confirm(f"撤销证书 {no}（原因：{reason.strip()}）？未拨付的奖励将释放，已拨付的记为待追回；该企业的奖励随即"
                        "重新核算。", lambda s: office.revoke(s, actor, config_dir(), no, reason),
                        lambda r: f"已撤销 {no}；奖励 {AWARD_STATUSES.zh(r['award_status'] or NONE)} {yuan(r['amount'])}",
                        (ConfigError, NotFound))


def public_list(actor) -> bytes:
    """Built when the button is clicked (not on every run of the page)."""
    with session() as s:
        return office.public_list_file(s, actor, office.configured_rules(config_dir()))


# --- the page ---------------------------------------------------------------------------------------------------------

actor = current_actor()
st.title("认证台账")
flash()
try:
    rules = office.configured_rules(config_dir())
except ConfigError as exc:
    st.error(f"规则集 awards.yaml 无法读取：{exc}")
    st.stop()
st.caption(f"规则集 {rules.name}（版本 {rules.version}）· {ceiling_text(rules)} · {last_award_text(rules)}")

if actor.role == "admin":
    import_section(actor)
chosen = certificate_list(actor)
if chosen:
    certificate_detail(actor, chosen)

st.subheader("公示名单")
st.caption("已批准和已拨付的奖励，与 mtx awards export 生成的文件相同。")
st.download_button("下载公示名单（XLSX）", lambda: public_list(actor), file_name="公示名单.xlsx", mime=XLSX,
                   key="public_list", on_click="ignore")
open_question()
