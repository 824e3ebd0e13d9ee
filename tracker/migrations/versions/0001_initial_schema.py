"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import tracker.models
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('entity_key', sa.String(length=200), nullable=True),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('collection_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('host', sa.String(length=200), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'ok', 'partial', 'failed', 'interrupted')", name=op.f('ck_collection_runs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_runs'))
    )
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('focus', sa.String(length=20), nullable=False),
    sa.Column('applicant', sa.String(length=200), nullable=True),
    sa.Column('homepage', sa.String(length=500), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("focus IN ('automotive', 'smart-terminal', 'education', 'other')", name=op.f('ck_communities_focus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('slug', name=op.f('uq_communities_slug'))
    )
    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('district', sa.String(length=50), nullable=True),
    sa.Column('registered_in_chongqing', sa.Boolean(), nullable=False),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprises_uscc'))
    )
    op.create_table('evaluation_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('data_cutoff', sa.Date(), nullable=False),
    sa.Column('model_name', sa.String(length=100), nullable=False),
    sa.Column('model_content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('model_hash', sa.String(length=64), nullable=False),
    sa.Column('budget', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('frozen_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'frozen', 'published')", name=op.f('ck_evaluation_rounds_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_rounds')),
    sa.UniqueConstraint('year', 'name', name=op.f('uq_evaluation_rounds_year_name'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('chongqing_local', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('company', 'university', 'government', 'foundation', 'individual', 'other')", name=op.f('ck_organisations_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people'))
    )
    op.create_table('repositories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('api_url', sa.String(length=300), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('web_url', sa.String(length=500), nullable=True),
    sa.Column('default_branch', sa.String(length=200), nullable=True),
    sa.Column('licence', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('moved_to', sa.String(length=500), nullable=True),
    sa.Column('is_fork', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('first_seen_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('missing_since', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("platform IN ('github', 'gitee', 'gitcode', 'gitlab', 'git')", name=op.f('ck_repositories_platform')),
    sa.CheckConstraint("state IN ('active', 'archived', 'empty', 'moved', 'gone')", name=op.f('ck_repositories_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repositories')),
    sa.UniqueConstraint('platform', 'api_url', 'path', name=op.f('uq_repositories_platform_api_url_path'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('login', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_accounts_person_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('platform', 'key', name=op.f('uq_accounts_platform_key'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_person_id'), ['person_id'], unique=False)

    op.create_table('affiliations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_affiliations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_affiliations_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_affiliations')),
    sa.UniqueConstraint('person_id', 'organisation_id', 'start_date', name=op.f('uq_affiliations_person_id_organisation_id_start_date'))
    )
    op.create_table('collection_bookmarks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=20), nullable=False),
    sa.Column('cursor', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('validators', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('updated_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("stream IN ('repo', 'commits', 'releases', 'contributors', 'issues', 'pulls')", name=op.f('ck_collection_bookmarks_stream')),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_collection_bookmarks_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_bookmarks')),
    sa.UniqueConstraint('repository_id', 'stream', name=op.f('uq_collection_bookmarks_repository_id_stream'))
    )
    op.create_table('collection_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('not_modified', sa.Integer(), nullable=False),
    sa.Column('rate_limit_waits', sa.Integer(), nullable=False),
    sa.Column('wait_seconds', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.CheckConstraint("status IN ('ok', 'failed', 'skipped', 'deadline')", name=op.f('ck_collection_results_status')),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_collection_results_repository_id_repositories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['collection_runs.id'], name=op.f('fk_collection_results_run_id_collection_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_results')),
    sa.UniqueConstraint('run_id', 'repository_id', name=op.f('uq_collection_results_run_id_repository_id'))
    )
    with op.batch_alter_table('collection_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_results_repository_id'), ['repository_id'], unique=False)

    op.create_table('community_repositories',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_community_repositories_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_community_repositories_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('community_id', 'repository_id', name=op.f('pk_community_repositories'))
    )
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('normalised_name', sa.String(length=300), nullable=False),
    sa.Column('product_type', sa.String(length=10), nullable=False),
    sa.Column('first_version', sa.Boolean(), nullable=False),
    sa.CheckConstraint("product_type IN ('开发板', '模组', '设备', '发行版', '软件')", name=op.f('ck_products_product_type')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_products_enterprise_id_enterprises'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('enterprise_id', 'normalised_name', 'product_type', name=op.f('uq_products_enterprise_id_normalised_name_product_type'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=300), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=True),
    sa.Column('published_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('prerelease', sa.Boolean(), nullable=False),
    sa.Column('missing_since', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_releases_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_releases')),
    sa.UniqueConstraint('repository_id', 'tag', name=op.f('uq_releases_repository_id_tag'))
    )
    op.create_table('repository_contributors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('login', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('contributions', sa.Integer(), nullable=False),
    sa.Column('seen_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_repository_contributors_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repository_contributors')),
    sa.UniqueConstraint('repository_id', 'key', name=op.f('uq_repository_contributors_repository_id_key'))
    )
    op.create_table('repository_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('taken_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=True),
    sa.Column('forks', sa.Integer(), nullable=True),
    sa.Column('subscribers', sa.Integer(), nullable=True),
    sa.Column('open_issues', sa.Integer(), nullable=True),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pushed_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_repository_snapshots_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repository_snapshots')),
    sa.UniqueConstraint('repository_id', 'taken_on', name=op.f('uq_repository_snapshots_repository_id_taken_on'))
    )
    op.create_table('round_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('applicant', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_round_candidates_community_id_communities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['evaluation_rounds.id'], name=op.f('fk_round_candidates_round_id_evaluation_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_candidates')),
    sa.UniqueConstraint('round_id', 'community_id', name=op.f('uq_round_candidates_round_id_community_id'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'enterprise') = (enterprise_id IS NOT NULL)", name=op.f('ck_users_enterprise_link')),
    sa.CheckConstraint("role IN ('admin', 'evaluator', 'enterprise')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_users_enterprise_id_enterprises'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('cert_no', sa.String(length=100), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('os_version', sa.String(length=40), nullable=True),
    sa.Column('api_level', sa.Integer(), nullable=True),
    sa.Column('pass_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('revoked_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=True),
    sa.Column('derived_from_no', sa.String(length=100), nullable=True),
    sa.Column('derived_from_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('valid', 'revoked')", name=op.f('ck_certificates_status')),
    sa.ForeignKeyConstraint(['derived_from_id'], ['certificates.id'], name=op.f('fk_certificates_derived_from_id_certificates'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_certificates_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('cert_no', name=op.f('uq_certificates_cert_no'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_product_id'), ['product_id'], unique=False)

    op.create_table('commits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('sha', sa.String(length=64), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=True),
    sa.Column('author_email', sa.String(length=320), nullable=True),
    sa.Column('author_time', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('committer_name', sa.String(length=200), nullable=True),
    sa.Column('committer_email', sa.String(length=320), nullable=True),
    sa.Column('committer_time', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('author_account_id', sa.Integer(), nullable=True),
    sa.Column('committer_account_id', sa.Integer(), nullable=True),
    sa.Column('is_merge', sa.Boolean(), nullable=False),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('message_title', sa.String(length=500), nullable=True),
    sa.Column('missing_since', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_account_id'], ['accounts.id'], name=op.f('fk_commits_author_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['committer_account_id'], ['accounts.id'], name=op.f('fk_commits_committer_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_commits_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commits')),
    sa.UniqueConstraint('repository_id', 'sha', name=op.f('uq_commits_repository_id_sha'))
    )
    with op.batch_alter_table('commits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commits_author_account_id'), ['author_account_id'], unique=False)
        batch_op.create_index('ix_commits_repository_id_author_time', ['repository_id', 'author_time'], unique=False)
        batch_op.create_index('ix_commits_sha', ['sha'], unique=False)

    op.create_table('expert_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('expert', sa.String(length=100), nullable=False),
    sa.Column('signal', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['round_candidates.id'], name=op.f('fk_expert_scores_candidate_id_round_candidates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_scores')),
    sa.UniqueConstraint('candidate_id', 'expert', 'signal', name=op.f('uq_expert_scores_candidate_id_expert_signal'))
    )
    op.create_table('issues',
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('author_account_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=1000), nullable=True),
    sa.Column('author_login', sa.String(length=200), nullable=True),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('first_response_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('missing_since', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_issues_state')),
    sa.ForeignKeyConstraint(['author_account_id'], ['accounts.id'], name=op.f('fk_issues_author_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_issues_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issues')),
    sa.UniqueConstraint('repository_id', 'number', name=op.f('uq_issues_repository_id_number'))
    )
    op.create_table('pull_requests',
    sa.Column('repository_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('merged_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('author_account_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=1000), nullable=True),
    sa.Column('author_login', sa.String(length=200), nullable=True),
    sa.Column('created_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('first_response_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('missing_since', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('open', 'closed', 'merged')", name=op.f('ck_pull_requests_state')),
    sa.ForeignKeyConstraint(['author_account_id'], ['accounts.id'], name=op.f('fk_pull_requests_author_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['repository_id'], ['repositories.id'], name=op.f('fk_pull_requests_repository_id_repositories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pull_requests')),
    sa.UniqueConstraint('repository_id', 'number', name=op.f('uq_pull_requests_repository_id_number'))
    )
    op.create_table('round_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('coverage', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('contributions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('recommended_amount', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['round_candidates.id'], name=op.f('fk_round_results_candidate_id_round_candidates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['evaluation_rounds.id'], name=op.f('fk_round_results_round_id_evaluation_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_results')),
    sa.UniqueConstraint('candidate_id', name=op.f('uq_round_results_candidate_id'))
    )
    with op.batch_alter_table('round_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_results_round_id'), ['round_id'], unique=False)

    op.create_table('signal_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('signal', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['round_candidates.id'], name=op.f('fk_signal_values_candidate_id_round_candidates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_values')),
    sa.UniqueConstraint('candidate_id', 'signal', name=op.f('uq_signal_values_candidate_id_signal'))
    )
    op.create_table('awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('rule_set_version', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason_code', sa.String(length=50), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('computed_at', tracker.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_at', tracker.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('computed', 'approved', 'paid', 'to_recover', 'released')", name=op.f('ck_awards_status')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_awards_amount_non_negative')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_awards_certificate_id_certificates'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_awards_enterprise_id_enterprises'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_awards_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards')),
    sa.UniqueConstraint('certificate_id', name=op.f('uq_awards_certificate_id'))
    )
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awards_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_awards_product_id'), ['product_id'], unique=False)



    _audit_log_append_only()


AUDIT_GUARD_SQLITE = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
AUDIT_GUARD_POSTGRES = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def _audit_log_append_only() -> None:
    """The audit log refuses UPDATE and DELETE in the database itself, whatever code runs against it."""
    dialect = op.get_bind().dialect.name
    for statement in AUDIT_GUARD_POSTGRES if dialect == "postgresql" else AUDIT_GUARD_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log')
        op.execute('DROP FUNCTION IF EXISTS audit_log_append_only()')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_delete')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_awards_product_id'))
        batch_op.drop_index(batch_op.f('ix_awards_enterprise_id'))

    op.drop_table('awards')
    op.drop_table('signal_values')
    with op.batch_alter_table('round_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_results_round_id'))

    op.drop_table('round_results')
    op.drop_table('pull_requests')
    op.drop_table('issues')
    op.drop_table('expert_scores')
    with op.batch_alter_table('commits', schema=None) as batch_op:
        batch_op.drop_index('ix_commits_sha')
        batch_op.drop_index('ix_commits_repository_id_author_time')
        batch_op.drop_index(batch_op.f('ix_commits_author_account_id'))

    op.drop_table('commits')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_product_id'))

    op.drop_table('certificates')
    op.drop_table('users')
    op.drop_table('round_candidates')
    op.drop_table('repository_snapshots')
    op.drop_table('repository_contributors')
    op.drop_table('releases')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_enterprise_id'))

    op.drop_table('products')
    op.drop_table('community_repositories')
    with op.batch_alter_table('collection_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_results_repository_id'))

    op.drop_table('collection_results')
    op.drop_table('collection_bookmarks')
    op.drop_table('affiliations')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_person_id'))

    op.drop_table('accounts')
    op.drop_table('repositories')
    op.drop_table('people')
    op.drop_table('organisations')
    op.drop_table('evaluation_rounds')
    op.drop_table('enterprises')
    op.drop_table('communities')
    op.drop_table('collection_runs')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
