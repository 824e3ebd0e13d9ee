"""activity aggregates (metrics read these, not the commits) and per-stream collection state

On a database without commits the (empty) aggregates are marked built, and the store keeps them in step from the
first page; on one with commits they are built on first use (tracker/metrics/activity.py: `ensure_current`), or by
`mtx metrics --rebuild`. collection_streams is filled from the run log: a repository's last successful result counts as
every stream collected then (results did not record streams one by one before this revision).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import tracker.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_days',
    sa.Column('community_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('person_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('organisation_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('commits', sa.Integer(), nullable=False),
    sa.Column('last_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('community_id', 'person_id', 'organisation_id', 'day', name=op.f('pk_activity_days')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('activity_days', schema=None) as batch_op:
        batch_op.create_index('ix_activity_days_person_id', ['person_id'], unique=False)

    op.create_table('activity_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('person_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('commits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'person_id', name=op.f('pk_activity_months')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('activity_months', schema=None) as batch_op:
        batch_op.create_index('ix_activity_months_person_id', ['person_id'], unique=False)

    op.create_table('activity_people',
    sa.Column('kind', sa.String(length=1), nullable=False),
    sa.Column('scope_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('person_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('commits', sa.Integer(), nullable=False),
    sa.Column('first_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('c', 'r', 'a')", name=op.f('ck_activity_people_kind')),
    sa.PrimaryKeyConstraint('kind', 'scope_id', 'person_id', name=op.f('pk_activity_people')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('activity_people', schema=None) as batch_op:
        batch_op.create_index('ix_activity_people_person_id', ['person_id'], unique=False)

    op.create_table('activity_scopes',
    sa.Column('scope', sa.String(length=30), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('built_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_activity_scopes'))
    )
    op.create_table('collection_streams',
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=20), nullable=False),
    sa.Column('last_attempt_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=20), nullable=True),
    sa.Column('last_success_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("stream IN ('repo', 'commits', 'releases', 'contributors', 'issues', 'pulls')", name=op.f('ck_collection_streams_stream')),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_collection_streams_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('repository_id', 'stream', name=op.f('pk_collection_streams'))
    )
    _backfill_streams()
    _mark_empty_as_built()


STREAMS = ("repo", "commits", "releases", "contributors", "issues", "pulls")


def _backfill_streams() -> None:
    conn = op.get_bind()
    results = sa.table("collection_results", sa.column("repository_id"), sa.column("status"),
                       sa.column("finished_at", tracker.models.UTCDateTime()))
    attempts = dict(conn.execute(sa.select(results.c.repository_id, sa.func.max(results.c.finished_at))
                                 .group_by(results.c.repository_id)).all())
    successes = dict(conn.execute(sa.select(results.c.repository_id, sa.func.max(results.c.finished_at))
                                  .where(results.c.status == "ok").group_by(results.c.repository_id)).all())
    rows = []
    for repository_id, attempted in attempts.items():
        success = successes.get(repository_id)
        for stream in STREAMS:
            rows.append({"repository_id": repository_id, "stream": stream,
                         "last_attempt_at": _aware(attempted), "last_status": "ok" if success == attempted else None,
                         "last_success_at": _aware(success)})
    if rows:
        streams = sa.table("collection_streams", sa.column("repository_id"), sa.column("stream"),
                           sa.column("last_attempt_at", tracker.models.UTCDateTime()), sa.column("last_status"),
                           sa.column("last_success_at", tracker.models.UTCDateTime()))
        conn.execute(streams.insert(), rows)


def _mark_empty_as_built() -> None:
    """No commits yet (a new database): the aggregates of nothing are complete, and the store keeps them so."""
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT COUNT(*) FROM commits")).scalar() == 0:
        import datetime as dt

        scopes = sa.table("activity_scopes", sa.column("scope"), sa.column("digest"),
                          sa.column("built_at", tracker.models.UTCDateTime()))
        conn.execute(scopes.insert(), [{"scope": "all", "digest": "", "built_at": dt.datetime.now(dt.timezone.utc)}])


def _aware(value):
    """SQLite hands max() back as text; PostgreSQL as an aware datetime."""
    import datetime as dt

    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.timezone.utc)


def downgrade() -> None:
    op.drop_table('collection_streams')
    op.drop_table('activity_scopes')
    with op.batch_alter_table('activity_people', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_people_person_id')

    op.drop_table('activity_people')
    with op.batch_alter_table('activity_months', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_months_person_id')

    op.drop_table('activity_months')
    with op.batch_alter_table('activity_days', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_days_person_id')

    op.drop_table('activity_days')
