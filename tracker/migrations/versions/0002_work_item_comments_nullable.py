"""work items: comment count may be unknown

GitHub's pull request list carries no comment count; outside the first-response window we do not fetch it, so the
count is unknown (NULL), not zero.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("issues", "pull_requests"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("comments", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    for table in ("issues", "pull_requests"):
        op.execute(f"UPDATE {table} SET comments = 0 WHERE comments IS NULL")
        with op.batch_alter_table(table) as batch:
            batch.alter_column("comments", existing_type=sa.Integer(), nullable=False)
