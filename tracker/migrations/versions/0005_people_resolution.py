"""people resolution: commit identities, corrections, suggestions, verified organisations

Commits now reference one row per distinct author identity (raw e-mail, raw name, linked account), so resolving
people works over identities, not commits. Existing commits are backfilled; accounts keep what collection saw about
bots in `platform_bot` (their `is_bot` becomes the resolved person's flag).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import tracker.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _identity_key(dialect: str) -> str:
    """The key store.identity_key() writes: '<account id>\\n<e-mail>\\n<name>', empty strings for none."""
    newline = "chr(10)" if dialect == "postgresql" else "char(10)"
    return (f"COALESCE(CAST(author_account_id AS VARCHAR), '') || {newline} || COALESCE(author_email, '') "
            f"|| {newline} || COALESCE(author_name, '')")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # plain ADD COLUMN (no table rebuild): rebuilding a referenced table on SQLite would fire ON DELETE SET NULL
    op.add_column("people", sa.Column("bot_reason", sa.String(length=300), nullable=True))
    op.add_column("people", sa.Column("is_anonymous", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("accounts", sa.Column("platform_bot", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("accounts", sa.Column("rule", sa.String(length=40), nullable=True))
    op.add_column("accounts", sa.Column("rule_via", sa.String(length=400), nullable=True))
    op.execute("UPDATE accounts SET platform_bot = is_bot")
    op.add_column("organisations", sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.true()))

    op.create_table(
        "commit_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("rule_via", sa.String(length=400), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_commit_identities_account_id_accounts"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_commit_identities_organisation_id_organisations"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_commit_identities_person_id_people"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commit_identities")),
        sa.UniqueConstraint("key", name=op.f("uq_commit_identities_key")),
    )
    with op.batch_alter_table("commit_identities") as batch:
        batch.create_index(batch.f("ix_commit_identities_person_id"), ["person_id"], unique=False)

    op.create_table(
        "identity_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("object", sa.String(length=400), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", tracker.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('merge', 'split', 'distinct', 'bot', 'domain', 'affiliation')",
                           name=op.f("ck_identity_corrections_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_corrections")),
    )
    op.create_table(
        "person_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_a", sa.String(length=400), nullable=False),
        sa.Column("key_b", sa.String(length=400), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=400), nullable=True),
        sa.Column("created_at", tracker.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_suggestions")),
        sa.UniqueConstraint("key_a", "key_b", name=op.f("uq_person_suggestions_key_a_key_b")),
    )

    with op.batch_alter_table("commits") as batch:
        batch.add_column(sa.Column("author_identity_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_commits_author_identity_id_commit_identities"), "commit_identities",
                                 ["author_identity_id"], ["id"], ondelete="SET NULL")
        batch.create_index(batch.f("ix_commits_author_identity_id"), ["author_identity_id"], unique=False)

    key = _identity_key(dialect)
    op.execute(f"INSERT INTO commit_identities (key, email, name, account_id, is_bot) "
               f"SELECT {key}, MAX(author_email), MAX(author_name), MAX(author_account_id), "
               f"MAX(CASE WHEN is_bot THEN 1 ELSE 0 END) = 1 FROM commits GROUP BY {key}")
    op.execute(f"UPDATE commits SET author_identity_id = "
               f"(SELECT ci.id FROM commit_identities ci WHERE ci.key = {key})")
    op.execute("UPDATE commits SET is_bot = (SELECT ci.is_bot FROM commit_identities ci "
               "WHERE ci.id = commits.author_identity_id)")


def downgrade() -> None:
    with op.batch_alter_table("commits") as batch:
        batch.drop_index(batch.f("ix_commits_author_identity_id"))
        batch.drop_constraint(batch.f("fk_commits_author_identity_id_commit_identities"), type_="foreignkey")
        batch.drop_column("author_identity_id")
    op.drop_table("person_suggestions")
    op.drop_table("identity_corrections")
    with op.batch_alter_table("commit_identities") as batch:
        batch.drop_index(batch.f("ix_commit_identities_person_id"))
    op.drop_table("commit_identities")
    for table, column in (("organisations", "verified"), ("accounts", "rule_via"), ("accounts", "rule"),
                          ("accounts", "platform_bot"), ("people", "is_anonymous"), ("people", "bot_reason")):
        op.drop_column(table, column)  # native DROP COLUMN: no rebuild of a referenced table
