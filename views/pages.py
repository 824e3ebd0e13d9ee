"""Which pages each role sees: one table, read by app.py to build the navigation (issue 20)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageDef:
    file: str
    title: str
    icon: str
    url_path: str
    roles: tuple[str, ...]


PAGES = (
    PageDef("views/overview.py", "总览", ":material/dashboard:", "overview", ("admin", "evaluator", "enterprise")),
    PageDef("views/awards.py", "我的奖励", ":material/workspace_premium:", "awards", ("enterprise",)),
    PageDef("views/ranking.py", "社区排名", ":material/leaderboard:", "ranking", ("admin", "evaluator")),
    PageDef("views/community.py", "社区详情", ":material/search:", "community", ("admin", "evaluator")),
    PageDef("views/rounds.py", "评审轮次", ":material/rate_review:", "rounds", ("admin", "evaluator")),
    PageDef("views/collection.py", "数据采集", ":material/sync:", "collection", ("admin", "evaluator")),
    PageDef("views/ledger.py", "认证台账", ":material/receipt_long:", "ledger", ("admin", "evaluator")),
    PageDef("views/people.py", "人员与组织", ":material/badge:", "people", ("admin", "evaluator")),
    PageDef("views/users.py", "用户管理", ":material/manage_accounts:", "users", ("admin",)),
    PageDef("views/audit.py", "审计日志", ":material/history:", "audit", ("admin",)),
    PageDef("views/password.py", "修改密码", ":material/lock:", "password", ("admin", "evaluator", "enterprise")),
)

PASSWORD_PAGE = next(p for p in PAGES if p.url_path == "password")


def allowed(role: str) -> list[PageDef]:
    return [p for p in PAGES if role in p.roles]


def refused(role: str) -> list[PageDef]:
    return [p for p in PAGES if role not in p.roles]
