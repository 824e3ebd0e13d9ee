"""evaluation rounds, part 1: the lifecycle draft -> open -> checked -> frozen -> scored (-> decided -> publicised ->
final), the formal check per candidate, the expert panel, 回避 (conflicts), frozen signals with their reasons

Old round statuses map onto the new ones: draft -> draft, frozen -> frozen, published -> publicised.

SQLite: `evaluation_rounds` and `round_candidates` are referenced with ON DELETE CASCADE, so they are not rebuilt
(that would delete their children while foreign keys are on): columns are added with ALTER TABLE, and the status
CHECK constraint is rewritten in the stored schema as SQLite documents (as revision 0008 does).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
import re

from alembic import op
import sqlalchemy as sa
import tracker.models
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# the values as they are at this revision (tracker.vocab may grow later)
OLD_STATUSES = ("draft", "frozen", "published")
STATUSES = ("draft", "open", "checked", "frozen", "scored", "decided", "publicised", "final")
AGGREGATIONS = ("mean", "trimmed", "median")
CHECK_STATUSES = ("pending", "passed", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _sqlite_replace_check(table: str, name: str, new_check: str) -> None:
    """Replace the CHECK constraint ``name`` in ``table``'s stored CREATE statement (data untouched)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'").scalar()
    pattern = re.compile(r"CONSTRAINT\s+\"?" + name + r"\"?\s+CHECK\s*\((?:[^()]|\([^()]*\))*\)", re.IGNORECASE)
    new = pattern.sub(f"CONSTRAINT {name} CHECK ({new_check})", sql, count=1)
    if new == sql:
        raise RuntimeError(f"{table}: constraint {name} not found in the stored schema")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
                     {"sql": new, "t": table})
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA quick_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"{table}: the schema rewrite left the database inconsistent: {problems}")


def _change_statuses(before: tuple[str, ...], after: tuple[str, ...], old: str, new: str) -> None:
    """Rows with status ``old`` become ``new`` and the CHECK constraint allows ``after`` instead of ``before``; while
    the rows change, both sets are allowed (SQLite's rewrite checks every row against the constraint it writes)."""
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_replace_check("evaluation_rounds", "ck_evaluation_rounds_status",
                              _in("status", tuple(dict.fromkeys(before + after))))
        op.execute(f"UPDATE evaluation_rounds SET status = '{new}' WHERE status = '{old}'")
        _sqlite_replace_check("evaluation_rounds", "ck_evaluation_rounds_status", _in("status", after))
    else:
        op.execute("ALTER TABLE evaluation_rounds DROP CONSTRAINT ck_evaluation_rounds_status")
        op.execute(f"UPDATE evaluation_rounds SET status = '{new}' WHERE status = '{old}'")
        op.execute(f"ALTER TABLE evaluation_rounds ADD CONSTRAINT ck_evaluation_rounds_status "
                   f"CHECK ({_in('status', after)})")


def _add_checked_column(table: str, column: str, type_sql: str, default: str, name: str, check: str) -> None:
    """A NOT NULL column with a default and a named CHECK, added without rebuilding the table."""
    if op.get_bind().dialect.name == "sqlite":
        present = {row[1] for row in op.get_bind().exec_driver_sql(f"PRAGMA table_info({table})")}
        if column in present:  # left in place by this revision's downgrade, with its constraint
            return
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {type_sql} NOT NULL DEFAULT '{default}' "
                   f"CONSTRAINT {name} CHECK ({check})")
    else:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {type_sql} NOT NULL DEFAULT '{default}'")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check})")


def upgrade() -> None:
    op.create_table(
        "round_experts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("expert", sa.String(length=100), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=True),
        sa.Column("added_at", tracker.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["evaluation_rounds.id"],
                                name=op.f("fk_round_experts_round_id_evaluation_rounds"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_experts")),
        sa.UniqueConstraint("round_id", "expert", name=op.f("uq_round_experts_round_id_expert")),
    )
    op.create_index(op.f("ix_round_experts_round_id"), "round_experts", ["round_id"], unique=False)
    op.create_table(
        "round_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("expert", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_by", sa.String(length=100), nullable=True),
        sa.Column("declared_at", tracker.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["round_candidates.id"],
                                name=op.f("fk_round_conflicts_candidate_id_round_candidates"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["evaluation_rounds.id"],
                                name=op.f("fk_round_conflicts_round_id_evaluation_rounds"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_conflicts")),
        sa.UniqueConstraint("candidate_id", "expert", name=op.f("uq_round_conflicts_candidate_id_expert")),
    )
    op.create_index(op.f("ix_round_conflicts_round_id"), "round_conflicts", ["round_id"], unique=False)

    # rounds: new settings and step times (plain ALTER TABLE ... ADD COLUMN on both databases)
    op.add_column("evaluation_rounds", sa.Column("max_award", sa.BigInteger(), nullable=False, server_default="0"))
    _add_checked_column("evaluation_rounds", "aggregation", "VARCHAR(10)", "mean", "ck_evaluation_rounds_aggregation",
                        _in("aggregation", AGGREGATIONS))
    op.add_column("evaluation_rounds", sa.Column("min_experts", sa.Integer(), nullable=False, server_default="3"))
    op.add_column("evaluation_rounds", sa.Column("publicity_days", sa.Integer(), nullable=False, server_default="7"))
    for column in ("opened_at", "checked_at", "scored_at"):
        op.add_column("evaluation_rounds", sa.Column(column, tracker.models.UTCDateTime(timezone=True), nullable=True))
    _change_statuses(OLD_STATUSES, STATUSES, "published", "publicised")

    # candidates: the application and the formal check
    op.add_column("round_candidates", sa.Column("enterprise_uscc", sa.String(length=18), nullable=True))
    op.add_column("round_candidates", sa.Column("applied_by", sa.String(length=100), nullable=True))
    op.add_column("round_candidates", sa.Column("applied_at", tracker.models.UTCDateTime(timezone=True), nullable=False,
                                                server_default="1970-01-01 00:00:00"))
    _add_checked_column("round_candidates", "check_status", "VARCHAR(10)", "pending", "ck_round_candidates_check_status",
                        _in("check_status", CHECK_STATUSES))
    op.add_column("round_candidates", sa.Column("check_reason", sa.Text(), nullable=True))
    op.add_column("round_candidates", sa.Column("check_items", _json(), nullable=True))
    op.add_column("round_candidates", sa.Column("checked_by", sa.String(length=100), nullable=True))
    op.add_column("round_candidates", sa.Column("checked_at", tracker.models.UTCDateTime(timezone=True), nullable=True))

    op.add_column("expert_scores", sa.Column("source", sa.String(length=100), nullable=True))
    op.add_column("signal_values", sa.Column("reason", sa.String(length=30), nullable=True))
    op.add_column("signal_values", sa.Column("window", sa.String(length=10), nullable=True))
    op.add_column("signal_values", sa.Column("repositories", sa.Integer(), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    later = bind.execute(sa.text("SELECT COUNT(*) FROM evaluation_rounds WHERE status NOT IN "
                                 "('draft', 'frozen', 'publicised')")).scalar()
    if later:
        raise RuntimeError(f"{later} round(s) are in a status revision 0009 does not know (open, checked, scored, "
                           "decided, final): finish or delete them before downgrading")
    op.drop_table("round_conflicts")
    op.drop_table("round_experts")
    dropped = {"evaluation_rounds": ["max_award", "min_experts", "publicity_days", "opened_at", "checked_at",
                                     "scored_at"],
               "round_candidates": ["enterprise_uscc", "applied_by", "applied_at", "check_reason", "check_items",
                                    "checked_by", "checked_at"],
               "expert_scores": ["source"], "signal_values": ["reason", "window", "repositories"]}
    if bind.dialect.name == "postgresql":
        dropped["evaluation_rounds"].append("aggregation")
        dropped["round_candidates"].append("check_status")
        op.execute("ALTER TABLE evaluation_rounds DROP CONSTRAINT ck_evaluation_rounds_aggregation")
        op.execute("ALTER TABLE round_candidates DROP CONSTRAINT ck_round_candidates_check_status")
    # (SQLite cannot drop a column a CHECK constraint names without rebuilding referenced tables: aggregation and
    # check_status stay there, with their defaults, and revision 0009 ignores them)
    for table, columns in dropped.items():
        for column in columns:
            op.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')
    _change_statuses(STATUSES, OLD_STATUSES, "publicised", "published")
