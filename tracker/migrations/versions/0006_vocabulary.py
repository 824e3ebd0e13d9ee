"""one vocabulary: a real `partial` collection result, score statuses ranked / unavailable

A stream stopped by `collection.max_pages_per_stream` used to be stored as `deadline` (the error text naming the cap);
those rows become `partial`. Round results said `ok` for a ranked result; they say `ranked` now, and their status is
checked against the score statuses of tracker.vocab. The values are written out here, as they were at this revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RESULT_STATUSES_BEFORE = ("ok", "failed", "skipped", "deadline")
RESULT_STATUSES_AFTER = ("ok", "partial", "failed", "skipped", "deadline")
SCORE_STATUSES = ("ranked", "unavailable")
PAGE_CAP_ERROR = "%max_pages_per_stream%"  # the StreamPartial message: "... (collection.max_pages_per_stream) ..."


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _result_statuses(values: tuple[str, ...]) -> None:
    # collection_results and round_results are referenced by no table: rebuilding them on SQLite is safe
    with op.batch_alter_table("collection_results") as batch:
        batch.drop_constraint(op.f("ck_collection_results_status"), type_="check")
        batch.create_check_constraint(op.f("ck_collection_results_status"), _in("status", values))


def upgrade() -> None:
    _result_statuses(RESULT_STATUSES_AFTER)
    op.execute(f"UPDATE collection_results SET status = 'partial' "
               f"WHERE status = 'deadline' AND error LIKE '{PAGE_CAP_ERROR}'")
    op.execute("UPDATE round_results SET status = 'ranked' WHERE status = 'ok'")
    with op.batch_alter_table("round_results") as batch:
        batch.create_check_constraint(op.f("ck_round_results_status"), _in("status", SCORE_STATUSES))


def downgrade() -> None:
    with op.batch_alter_table("round_results") as batch:
        batch.drop_constraint(op.f("ck_round_results_status"), type_="check")
    op.execute("UPDATE round_results SET status = 'ok' WHERE status = 'ranked'")
    op.execute("UPDATE collection_results SET status = 'deadline' WHERE status = 'partial'")
    _result_statuses(RESULT_STATUSES_BEFORE)
