"""Every vocabulary of the application, each defined once: value, Chinese label, English label, properties.

The models build their CHECK constraints from these values, the command line and the exports print these labels,
the pages show them, the rules read the properties ("counts against the ceiling") from here. The vocabularies the
collector needs as well (streams, repository and work-item states) live in `common.vocabulary`, which imports nothing
of ours, and are re-exported here. Platform names are not here: the platform registry owns them.

Adding a value: add its Term here and a migration for the CHECK constraint it changes.
"""
from __future__ import annotations

from common.vocabulary import ISSUE_STATES, PULL_STATES, REPO_STATES, STREAMS, Term, Vocabulary

__all__ = ["AWARD_STATUSES", "CERT_STATUSES", "LEDGER_ACTIONS", "COUNTING_AWARD_LABEL", "COUNTING_AWARD_STATUSES",
           "DECIDED_AWARD_STATUSES", "FROZEN_AWARD_STATUSES", "CORRECTION_KINDS", "JOIN_RULES", "AFFILIATION_SOURCES",
           "FOCUS_FIELDS", "ISSUE_STATES", "METRIC_REASONS",
           "NEVER_COLLECTED", "NOT_COMPUTED",
           "ORGANISATION_KINDS", "PRODUCT_TYPES", "PULL_STATES", "REPO_STATES", "RESULT_STATUSES", "ROLES",
           "ROUND_STATUSES", "CHECK_STATUSES", "AGGREGATIONS", "OBJECTION_STATUSES", "RUN_STATUSES", "SCORE_STATUSES", "STREAMS", "Term", "USER_ACTIONS", "Vocabulary"]

# --- communities ------------------------------------------------------------------------------------------------------

FOCUS_FIELDS = Vocabulary(
    "focus field",
    Term("automotive", "汽车", "automotive"),
    Term("smart-terminal", "智能终端", "smart terminals"),
    Term("education", "教育", "education"),
    Term("other", "其他", "other"),
)

ORGANISATION_KINDS = Vocabulary(
    "organisation kind",
    Term("company", "企业", "company"),
    Term("university", "高校", "university"),
    Term("government", "政府机构", "government"),
    Term("foundation", "基金会", "foundation"),
    Term("individual", "个人", "individual"),
    Term("other", "其他", "other"),
)

CORRECTION_KINDS = Vocabulary(
    "correction kind",
    Term("merge", "合并", "merge"),
    Term("split", "拆分", "split"),
    Term("distinct", "不是同一人", "distinct"),
    Term("bot", "机器人", "bot"),
    Term("domain", "邮箱域名", "domain"),
    Term("affiliation", "任职", "affiliation"),
)

# why an address or account belongs to its person (commit_identities.rule, accounts.rule; tracker.people.rules)
JOIN_RULES = Vocabulary(
    "join rule",
    Term("correction:merge", "管理员合并", "an administrator's merge"),
    Term("correction:split", "管理员拆分", "split off by an administrator"),
    Term("identities.yaml", "身份配置（identities.yaml）", "identities.yaml"),
    Term("linked-account", "平台关联账号", "the platform linked the commit to the account"),
    Term("noreply", "平台 noreply 地址", "a platform noreply address"),
    Term("same-email", "同一邮箱", "the same address"),
    Term("anonymous", "匿名地址（不合并）", "an anonymous address, never joined"),
    Term("own", "独立（未与他人合并）", "on its own"),
    Term("same-platform", "同一平台两个账号", "two accounts on one platform"),
    Term("same-login", "两个平台同一登录名", "one login on two platforms"),
)

AFFILIATION_SOURCES = Vocabulary(
    "affiliation source",
    Term("correction", "管理员更正", "an administrator's correction"),
    Term("identities.yaml", "身份配置（identities.yaml）", "identities.yaml"),
    Term("email-domain", "邮箱域名", "the e-mail domain"),
)

# --- collection -------------------------------------------------------------------------------------------------------

RUN_STATUSES = Vocabulary(
    "collection run status",
    Term("running", "进行中", "running"),
    Term("ok", "完成", "ok"),
    Term("partial", "部分完成", "partial"),
    Term("failed", "失败", "failed"),
    Term("interrupted", "已中断", "interrupted"),
)

RESULT_STATUSES = Vocabulary(
    "collection result status",
    Term("ok", "完成", "ok"),
    Term("partial", "部分完成", "partial", flags=frozenset({"stopped_early"})),  # a stream hit max_pages_per_stream
    Term("failed", "失败", "failed"),
    Term("skipped", "已跳过", "skipped", flags=frozenset({"stopped_early"})),  # the deadline came before it started
    Term("deadline", "到时停止", "deadline", flags=frozenset({"stopped_early"})),  # the deadline came during it
    shown=(Term("never", "从未采集", "never collected"),),  # a repository no run has reached yet
)
"""Per repository and run. Every `stopped_early` status resumes from its bookmarks on the next run."""
NEVER_COLLECTED = "never"

# --- the certificate award ledger -------------------------------------------------------------------------------------

PRODUCT_TYPES = Vocabulary(
    "product type",  # the values are the policy's own Chinese words
    Term("开发板", "开发板", "development board"),
    Term("模组", "模组", "module"),
    Term("设备", "设备", "device"),
    Term("发行版", "发行版", "distribution"),
    Term("软件", "软件", "software"),
)

CERT_STATUSES = Vocabulary(
    "certificate status",
    Term("valid", "有效", "valid", aliases=("正常",)),
    Term("revoked", "已撤销", "revoked", aliases=("撤销", "已吊销")),
)

COUNTS = "counts_against_ceiling"  # computed, approved or paid: uses the enterprise's ceiling
DECIDED = "decided"  # approved or paid: held within the ceiling at approval, published in the 公示 list
FROZEN = "frozen"  # recomputation leaves it as it is

AWARD_STATUSES = Vocabulary(
    "award status",
    Term("computed", "已核算", "computed", flags=frozenset({COUNTS})),
    Term("approved", "已批准", "approved", flags=frozenset({COUNTS, DECIDED, FROZEN})),
    Term("paid", "已拨付", "paid", flags=frozenset({COUNTS, DECIDED, FROZEN})),
    Term("to_recover", "待追回", "to recover", flags=frozenset({FROZEN})),
    Term("released", "已释放", "released", flags=frozenset({FROZEN})),
    shown=(Term("not_computed", "未核算", "not computed"),),  # a certificate with no award row yet
)
NOT_COMPUTED = "not_computed"
COUNTING_AWARD_STATUSES = AWARD_STATUSES.with_flag(COUNTS)  # computed, approved, paid
DECIDED_AWARD_STATUSES = AWARD_STATUSES.with_flag(DECIDED)  # approved, paid
FROZEN_AWARD_STATUSES = AWARD_STATUSES.with_flag(FROZEN)  # approved, paid, to_recover, released
COUNTING_AWARD_LABEL = "+".join(AWARD_STATUSES.zh(s) for s in COUNTING_AWARD_STATUSES)  # 已核算+已批准+已拨付

# What the ledger writes to the audit log (audit_log.action; not a CHECK constraint), as the 认证台账 page shows it.
LEDGER_ACTIONS = Vocabulary(
    "ledger audit action",
    Term("certificates.import", "导入文件", "file imported"),
    Term("enterprise.create", "新建企业", "enterprise created"),
    Term("enterprise.update", "更新企业", "enterprise updated"),
    Term("product.create", "新建产品", "product created"),
    Term("certificate.create", "导入证书", "certificate imported"),
    Term("certificate.revoke", "撤销证书", "certificate revoked"),
    Term("award.compute", "核算奖励", "award computed"),
    Term("award.recompute", "重新核算", "award recomputed"),
    Term("award.approve", "批准奖励", "award approved"),
    Term("award.approve_refused", "批准被拒绝", "approval refused"),
    Term("award.pay", "登记拨付", "payment recorded"),
    Term("award.revoke", "撤销后处理奖励", "award settled on revocation"),
)

# --- metrics ----------------------------------------------------------------------------------------------------------

# Why a signal has no value (missing is never zero; zero means "collected, and there was none").
METRIC_REASONS = Vocabulary(
    "metric reason",
    Term("not collected", "未采集", "not collected"),  # a counted repository's streams never, not fully or not recently collected
    Term("not provided", "平台不提供", "not provided"),  # no repository of the community has a platform that gives it
    Term("no source", "无数据来源", "no source"),  # nothing we collect can give it (dependents)
    Term("no activity", "窗口内无可计算项", "nothing to measure"),  # a median or share over no items
)

# --- evaluation rounds (tracker/rounds; docs/rounds.md) ---------------------------------------------------------------

# In lifecycle order: each step moves a round to the next status (tracker.rounds.lifecycle.NEXT).
ROUND_STATUSES = Vocabulary(
    "round status",
    Term("draft", "草稿", "draft"),
    Term("open", "申报中", "open for applications"),
    Term("checked", "已形式审查", "formally checked"),
    Term("frozen", "数据已冻结", "data frozen"),
    Term("scored", "专家已评分", "scored"),
    Term("decided", "已集体研究", "decided"),
    Term("publicised", "公示中", "publicised"),
    Term("final", "已定稿", "final"),
)

CHECK_STATUSES = Vocabulary(
    "formal check",
    Term("pending", "待审查", "pending"),
    Term("passed", "通过", "passed"),
    Term("failed", "不通过", "failed"),
)

AGGREGATIONS = Vocabulary(
    "aggregation",
    Term("mean", "平均分", "mean"),
    Term("trimmed", "去掉一个最高分和一个最低分后平均", "trimmed mean"),  # when at least 5 experts rated it
    Term("median", "中位数", "median"),
)

SCORE_STATUSES = Vocabulary(
    "score status",
    Term("ranked", "已排名", "ranked"),
    Term("unavailable", "数据不足", "unavailable"),  # too little data: no score, no rank
    Term("too_few_experts", "评审专家不足", "too few experts"),  # rounds: fewer complete expert sheets than required
    Term("failed_check", "形式审查未通过", "failed the formal check"),  # rounds: never scored
)

OBJECTION_STATUSES = Vocabulary(
    "objection status",
    Term("open", "待处理", "open"),
    Term("upheld", "异议成立", "upheld"),
    Term("rejected", "异议不成立", "rejected"),
)

# --- people using the app ---------------------------------------------------------------------------------------------

ROLES = Vocabulary(
    "role",
    Term("admin", "管理员", "administrator"),
    Term("evaluator", "评审专家", "evaluator"),
    Term("enterprise", "企业用户", "enterprise user"),
)

# audit actions on accounts (tracker.users, tracker.user_admin)
USER_ACTIONS = Vocabulary(
    "user audit action",
    Term("user.create", "新建用户", "user created"),
    Term("user.password_change", "修改密码", "password changed"),
    Term("user.password_reset", "重置密码", "password reset"),
    Term("user.unlock", "解除锁定", "unlocked"),
    Term("user.deactivate", "停用账号", "deactivated"),
    Term("user.activate", "启用账号", "activated"),
    Term("user.set_organisation", "设置所属组织", "organisation set"),
)
