"""user administration: a password that must be changed, the organisation an evaluator works for, the last sign-in;
indexes on audit_log for the 审计日志 page's filters

`users.must_change_password` is set by an administrator's password reset and cleared when the user changes it; until
then the app shows only 修改密码. `users.organisation_id` (evaluators; SET NULL when the organisation goes) lets a
round suggest conflicts. `users.last_sign_in_at` is written by a successful sign-in. `users` is referenced by no table,
so SQLite may rebuild it (batch mode keeps its named constraints); `audit_log` only gains indexes (no rebuild, its
append-only triggers stay).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

import tracker.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

AUDIT_INDEXES = ("actor", "action", "entity")  # `at` has been indexed since 0001


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_sign_in_at", tracker.models.UTCDateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_users_organisation_id_organisations"), "organisations",
                                 ["organisation_id"], ["id"], ondelete="SET NULL")
    for column in AUDIT_INDEXES:
        op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column], unique=False)


def downgrade() -> None:
    for column in AUDIT_INDEXES:
        op.drop_index(op.f(f"ix_audit_log_{column}"), table_name="audit_log")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("fk_users_organisation_id_organisations"), type_="foreignkey")
        batch.drop_column("last_sign_in_at")
        batch.drop_column("organisation_id")
        batch.drop_column("must_change_password")
