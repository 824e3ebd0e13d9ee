"""platforms from the registry: no platform CHECK constraint on repositories

The platforms a row may name are the declared ones (collector/platforms/, read through collector.registry), checked
by `mtx config check`, by the sync of the configuration into rows and by the store, so adding a platform needs no
migration. `accounts.platform` never had a CHECK constraint; it is validated the same way.

SQLite cannot drop a constraint, and rebuilding `repositories` (referenced with ON DELETE CASCADE) would delete every
commit, issue and snapshot while foreign keys are on. The constraint is removed the way SQLite documents for removing
a CHECK constraint (https://www.sqlite.org/lang_altertable.html, "making other kinds of table schema changes"):
rewrite the table's stored CREATE statement and bump the schema version, inside the migration's transaction; the
table's data is not touched.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""
import re

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CONSTRAINT = "ck_repositories_platform"
BUILT_IN = ("github", "gitee", "gitcode", "gitlab", "git")  # what the constraint allowed, for the downgrade
_CHECK = re.compile(r",\s*CONSTRAINT\s+\"?" + CONSTRAINT + r"\"?\s+CHECK\s*\((?:[^()]|\([^()]*\))*\)", re.IGNORECASE)
_CHECK_SQL = f"CONSTRAINT {CONSTRAINT} CHECK (platform IN ({', '.join(repr(p) for p in BUILT_IN)}))"


def _rewrite_sqlite_schema(change) -> None:
    """Replace the stored CREATE TABLE of `repositories` by ``change(sql)``; no-op when nothing changes."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'repositories'").scalar()
    new = change(sql)
    if new == sql:
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'repositories'"),
                     {"sql": new})
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA quick_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"repositories: the schema rewrite left the database inconsistent: {problems}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_schema(lambda sql: _CHECK.sub("", sql, count=1))
    else:
        op.execute(f"ALTER TABLE repositories DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


def downgrade() -> None:
    bind = op.get_bind()
    others = bind.execute(sa.text("SELECT DISTINCT platform FROM repositories WHERE platform NOT IN :built_in")
                          .bindparams(sa.bindparam("built_in", expanding=True)), {"built_in": list(BUILT_IN)}
                          ).scalars().all()
    if others:
        raise RuntimeError(f"无法降级 / cannot downgrade below 0008: repositories on platform(s) "
                           f"{', '.join(sorted(others))} which revision 0007's CHECK constraint does not allow; "
                           "remove those repositories first")
    if bind.dialect.name == "sqlite":
        def add(sql: str) -> str:
            if CONSTRAINT in sql:
                return sql
            at = sql.index("CONSTRAINT pk_repositories")
            end = sql.index(",", at)
            return sql[:end + 1] + f" \n\t{_CHECK_SQL}," + sql[end + 1:]
        _rewrite_sqlite_schema(add)
    else:
        op.create_check_constraint(CONSTRAINT, "repositories", sa.column("platform").in_(BUILT_IN))
