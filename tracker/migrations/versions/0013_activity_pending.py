"""activity_pending: repositories whose commits are stored but not yet in the activity aggregates; the commits'
identity index also keyed by repository

A first collection of a repository stores its pages of commits without adding them to the aggregates page by page;
the repository is listed here until people resolution has run, then its commits are added in one pass and the row
goes (tracker/metrics/activity.py: `settle`). Aggregate writes leave listed repositories' commits out, so nothing is
counted twice; a run killed before settling is settled by the next run or the next read (`ensure_current`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

import tracker.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the identity index gains the repository: "which of these identities have commits outside pending
    # repositories" is answered from the index (a plain index change: SQLite rebuilds no table)
    op.drop_index("ix_commits_author_identity_id", table_name="commits")
    op.create_index("ix_commits_author_identity_id_repository_id", "commits", ["author_identity_id", "repository_id"],
                    unique=False)
    op.create_table(
        "activity_pending",
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("since", tracker.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["repository_id"], ["repositories.id"],
                                name=op.f("fk_activity_pending_repository_id_repositories"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_activity_pending")),
    )


def downgrade() -> None:
    op.drop_table("activity_pending")
    op.drop_index("ix_commits_author_identity_id_repository_id", table_name="commits")
    op.create_index("ix_commits_author_identity_id", "commits", ["author_identity_id"], unique=False)
