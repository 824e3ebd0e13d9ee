"""users: normalised username key (unique) and the time of the last failed sign-in

`username_key` is what sign-in and `--as` match, so names that differ only by case, width, spaces or invisible
characters are one name. `last_failed_login_at` with `failed_logins` says when the next attempt may come (the delay
after each failure). Existing rows get their key here; two existing users whose names collide stop the upgrade with
both names, for an administrator to rename one first.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
import unicodedata

from alembic import op
import sqlalchemy as sa

import tracker.models
from tracker.db import DatabaseError

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _key(name: str) -> str:
    """Frozen copy of tracker.users.username_key as of this revision (a migration must not change with the code)."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()
    return unicodedata.normalize("NFKC", text.casefold())


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("last_failed_login_at", tracker.models.UTCDateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String),
                     sa.column("username_key", sa.String))
    seen: dict[str, str] = {}
    for user_id, username in conn.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all():
        key = _key(username)
        if key in seen:
            raise DatabaseError(f"用户 {seen[key]!r} 与 {username!r} 规范化后同名 / users {seen[key]!r} and "
                               f"{username!r} are the same name once normalised; rename one, then upgrade again")
        seen[key] = username
        conn.execute(users.update().where(users.c.id == user_id).values(username_key=key))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(length=100), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_username_key"), ["username_key"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_username_key"), type_="unique")
        batch.drop_column("last_failed_login_at")
        batch.drop_column("username_key")
