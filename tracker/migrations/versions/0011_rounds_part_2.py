"""evaluation rounds, part 2: allocation, the committee's decision and minutes, 公示 and objections, two more result
statuses (too_few_experts, failed_check), the integrity flags stored with each candidate at the freeze

`round_results` is referenced by no table, so SQLite may rebuild it for the status constraint; `evaluation_rounds` gets
plain ALTER TABLE ... ADD COLUMN (it is referenced with ON DELETE CASCADE and must not be rebuilt).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import tracker.models
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SCORE_STATUSES_BEFORE = ("ranked", "unavailable")
SCORE_STATUSES = ("ranked", "unavailable", "too_few_experts", "failed_check")
OBJECTION_STATUSES = ("open", "upheld", "rejected")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _score_statuses(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("round_results") as batch:
        batch.drop_constraint(op.f("ck_round_results_status"), type_="check")
        batch.create_check_constraint(op.f("ck_round_results_status"), _in("status", values))


ROUND_COLUMNS = (
    ("allocation", lambda: sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")),
    ("decided_at", lambda: tracker.models.UTCDateTime(timezone=True)),
    ("minutes_name", lambda: sa.String(length=300)),
    ("minutes_sha256", lambda: sa.String(length=64)),
    ("minutes", lambda: sa.LargeBinary()),
    ("publicity_start", lambda: sa.Date()),
    ("publicity_end", lambda: sa.Date()),
    ("final_at", lambda: tracker.models.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    for name, type_ in ROUND_COLUMNS:
        op.add_column("evaluation_rounds", sa.Column(name, type_(), nullable=True))
    op.add_column("round_candidates", sa.Column("integrity_flags", sa.JSON().with_variant(
        postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True))
    _score_statuses(SCORE_STATUSES)
    with op.batch_alter_table("round_results") as batch:
        batch.add_column(sa.Column("decided_amount", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
    op.create_table(
        "round_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("objector", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=300), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence_name", sa.String(length=300), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.LargeBinary(), nullable=False),
        sa.Column("received_by", sa.String(length=100), nullable=True),
        sa.Column("received_at", tracker.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", tracker.models.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_in("status", OBJECTION_STATUSES), name=op.f("ck_round_objections_status")),
        sa.ForeignKeyConstraint(["round_id"], ["evaluation_rounds.id"],
                                name=op.f("fk_round_objections_round_id_evaluation_rounds"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_objections")),
    )
    op.create_index(op.f("ix_round_objections_round_id"), "round_objections", ["round_id"], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM round_results WHERE status IN ('too_few_experts', "
                            "'failed_check')")).scalar():
        raise RuntimeError("round results with status too_few_experts or failed_check exist: revision 0010 does not "
                           "know them; delete those results before downgrading")
    op.drop_table("round_objections")
    with op.batch_alter_table("round_results") as batch:
        batch.drop_column("decision_reason")
        batch.drop_column("decided_amount")
    _score_statuses(SCORE_STATUSES_BEFORE)
    for name, _ in reversed(ROUND_COLUMNS):
        op.execute(f'ALTER TABLE evaluation_rounds DROP COLUMN "{name}"')
    op.execute('ALTER TABLE round_candidates DROP COLUMN "integrity_flags"')
