"""The schema: SQLAlchemy 2 typed models with named constraints.

The schema changes only through Alembic migrations (`tracker/migrations/versions`); a test fails when the models and
migrations drift. Times are stored as UTC and always come back as aware UTC datetimes, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from tracker import vocab

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The other vocabularies are defined once, in tracker.vocab; these names are their values, kept for importers.
REPO_STATES = vocab.REPO_STATES.values
FOCUS_FIELDS = vocab.FOCUS_FIELDS.values
ITEM_STATES_ISSUE = vocab.ISSUE_STATES.values
ITEM_STATES_PULL = vocab.PULL_STATES.values
STREAMS = vocab.STREAMS.values
RUN_STATUSES = vocab.RUN_STATUSES.values
RESULT_STATUSES = vocab.RESULT_STATUSES.values
PRODUCT_TYPES = vocab.PRODUCT_TYPES.values
CERT_STATUSES = vocab.CERT_STATUSES.values
AWARD_STATUSES = vocab.AWARD_STATUSES.values
ROUND_STATUSES = vocab.ROUND_STATUSES.values
CHECK_STATUSES = vocab.CHECK_STATUSES.values
AGGREGATIONS = vocab.AGGREGATIONS.values
OBJECTION_STATUSES = vocab.OBJECTION_STATUSES.values
SCORE_STATUSES = vocab.SCORE_STATUSES.values
ROLES = vocab.ROLES.values
CORRECTION_KINDS = vocab.CORRECTION_KINDS.values
ORGANISATION_KINDS = vocab.ORGANISATION_KINDS.values


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC in, aware UTC out. SQLite keeps naive UTC text; PostgreSQL keeps timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: convert to aware UTC before storing")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


# --- communities and repositories -------------------------------------------------------------------------------------


class CommunityRepository(Base):
    __tablename__ = "community_repositories"
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(300), default="config")  # "config" or the organisation entry's URL


class Community(Base):
    __tablename__ = "communities"
    __table_args__ = (CheckConstraint(_in("focus", FOCUS_FIELDS), name="focus"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    focus: Mapped[str] = mapped_column(String(20), default="other")
    applicant: Mapped[str | None] = mapped_column(String(200))
    homepage: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    repositories: Mapped[list["Repository"]] = relationship(
        secondary="community_repositories", back_populates="communities", order_by="Repository.id")


class Repository(Base):
    __tablename__ = "repositories"
    __table_args__ = (
        UniqueConstraint("platform", "api_url", "path"),
        CheckConstraint(_in("state", REPO_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))  # a declared platform (collector.registry), checked on write
    api_url: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(String(300))
    web_url: Mapped[str | None] = mapped_column(String(500))
    default_branch: Mapped[str | None] = mapped_column(String(200))
    licence: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="active")
    moved_to: Mapped[str | None] = mapped_column(String(500))
    is_fork: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    missing_since: Mapped[dt.datetime | None]  # an organisation entry no longer lists it

    communities: Mapped[list[Community]] = relationship(
        secondary="community_repositories", back_populates="repositories")


class RepositorySnapshot(Base):
    __tablename__ = "repository_snapshots"
    __table_args__ = (UniqueConstraint("repository_id", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    taken_on: Mapped[dt.date] = mapped_column(Date)
    taken_at: Mapped[dt.datetime]
    stars: Mapped[int | None]
    forks: Mapped[int | None]
    subscribers: Mapped[int | None]
    open_issues: Mapped[int | None]
    created_at: Mapped[dt.datetime | None]
    pushed_at: Mapped[dt.datetime | None]


# --- people, accounts, organisations ------------------------------------------------------------------------------------


class Person(Base):
    """One human (or bot) behind one or more platform accounts and e-mail addresses."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)  # authoritative; accounts and commits follow it
    bot_reason: Mapped[str | None] = mapped_column(String(300))
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)  # an address that identifies nobody
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Account(Base):
    """An identity as one platform shows it: keyed by login, or by e-mail where a commit has no linked login."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(320))  # "login:<login>" or "email:<lower-case e-mail>"
    login: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)  # the person's flag, kept in step by resolution
    platform_bot: Mapped[bool] = mapped_column(Boolean, default=False)  # what collection saw (type Bot, patterns)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    rule: Mapped[str | None] = mapped_column(String(40))  # the rule that joined it to its person
    rule_via: Mapped[str | None] = mapped_column(String(400))


class CommitIdentity(Base):
    """One distinct commit author as written (raw e-mail, raw name, linked account): what resolution works over.

    Filled by the collection at insert time and referenced from commits, so that resolving people reads thousands of
    identities, never millions of commits. `key` is "<account id>\\n<e-mail>\\n<name>" (empty for none).
    """

    __tablename__ = "commit_identities"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(600), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    rule: Mapped[str | None] = mapped_column(String(40))
    rule_via: Mapped[str | None] = mapped_column(String(400))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)  # as last applied to its commits


class IdentityCorrection(Base):
    """An administrator's correction, keyed by e-mail, platform:login or domain (never a person id); later wins.

    It outlives re-collection and re-resolution and wins over identities.yaml; every one is audited.
    """

    __tablename__ = "identity_corrections"
    __table_args__ = (CheckConstraint(_in("kind", CORRECTION_KINDS), name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(400))  # node key (e:<email> / l:<platform>:<login>) or a domain
    object: Mapped[str | None] = mapped_column(String(400))  # the other node, or an organisation name
    is_bot: Mapped[bool | None] = mapped_column(Boolean)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PeopleResolutionState(Base):
    """What the last people resolution saw (a digest of its inputs): an unchanged database is not resolved again."""

    __tablename__ = "people_resolution_state"
    id: Mapped[int] = mapped_column(primary_key=True)  # one row, id 1
    digest: Mapped[str] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PersonSuggestion(Base):
    """A join the rules would not make on their own (same-platform chain, same login on two platforms)."""

    __tablename__ = "person_suggestions"
    __table_args__ = (UniqueConstraint("key_a", "key_b"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key_a: Mapped[str] = mapped_column(String(400))
    key_b: Mapped[str] = mapped_column(String(400))
    rule: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(_in("kind", ORGANISATION_KINDS), name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="company")
    chongqing_local: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)  # False: named by an unmapped e-mail domain


class Affiliation(Base):
    """A dated enrolment of a person in an organisation (end exclusive; open ends mean 'still')."""

    __tablename__ = "affiliations"
    __table_args__ = (UniqueConstraint("person_id", "organisation_id", "start_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40), default="email-domain")  # identities.yaml / correction


# --- collected activity -----------------------------------------------------------------------------------------------


class Commit(Base):
    __tablename__ = "commits"
    __table_args__ = (
        UniqueConstraint("repository_id", "sha"),
        Index("ix_commits_sha", "sha"),
        Index("ix_commits_repository_id_author_time", "repository_id", "author_time"),
        # an identity's commits, and in which repositories, from the index alone (aggregates skip pending ones)
        Index("ix_commits_author_identity_id_repository_id", "author_identity_id", "repository_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_email: Mapped[str | None] = mapped_column(String(320))
    author_time: Mapped[dt.datetime | None]
    committer_name: Mapped[str | None] = mapped_column(String(200))
    committer_email: Mapped[str | None] = mapped_column(String(320))
    committer_time: Mapped[dt.datetime | None]
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    committer_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    author_identity_id: Mapped[int | None] = mapped_column(ForeignKey("commit_identities.id", ondelete="SET NULL"))
    is_merge: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    message_title: Mapped[str | None] = mapped_column(String(500))
    missing_since: Mapped[dt.datetime | None]  # a --full pass no longer saw it on the default branch


class Release(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("repository_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[dt.datetime | None]
    prerelease: Mapped[bool] = mapped_column(Boolean, default=False)
    missing_since: Mapped[dt.datetime | None]


class _WorkItem:
    """Columns shared by issues and pull/merge requests."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))  # as the platform gives it: "42", "I1DACG"
    title: Mapped[str | None] = mapped_column(String(1000))
    author_login: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    comments: Mapped[int | None] = mapped_column(Integer)  # None: the platform did not say (GitHub pull lists)
    first_response_at: Mapped[dt.datetime | None]
    missing_since: Mapped[dt.datetime | None]


class Issue(_WorkItem, Base):
    __tablename__ = "issues"
    __table_args__ = (UniqueConstraint("repository_id", "number"),
                      CheckConstraint(_in("state", ITEM_STATES_ISSUE), name="state"))
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10))
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class PullRequest(_WorkItem, Base):
    __tablename__ = "pull_requests"
    __table_args__ = (UniqueConstraint("repository_id", "number"),
                      CheckConstraint(_in("state", ITEM_STATES_PULL), name="state"))
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10))
    merged_at: Mapped[dt.datetime | None]
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class RepositoryContributor(Base):
    """The platform's own contributor list, kept as a cross-check (contributors are derived from commits)."""

    __tablename__ = "repository_contributors"
    __table_args__ = (UniqueConstraint("repository_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(320))
    login: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    contributions: Mapped[int] = mapped_column(Integer, default=0)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --- collection bookkeeping -------------------------------------------------------------------------------------------


class CollectionBookmark(Base):
    __tablename__ = "collection_bookmarks"
    __table_args__ = (UniqueConstraint("repository_id", "stream"),
                      CheckConstraint(_in("stream", STREAMS), name="stream"))
    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(20))
    cursor: Mapped[dict[str, Any] | None]
    validators: Mapped[dict[str, Any] | None]  # list URL -> {"etag": ..., "last_modified": ...}
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CollectionRun(Base):
    __tablename__ = "collection_runs"
    __table_args__ = (CheckConstraint(_in("status", RUN_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    actor: Mapped[str | None] = mapped_column(String(100))
    host: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None]
    options: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)


class CollectionResult(Base):
    __tablename__ = "collection_results"
    __table_args__ = (UniqueConstraint("run_id", "repository_id"),
                      CheckConstraint(_in("status", RESULT_STATUSES), name="status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("collection_runs.id", ondelete="CASCADE"))
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    items: Mapped[dict[str, Any] | None]  # stream -> records written
    requests: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    rate_limit_waits: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    duration_seconds: Mapped[float | None] = mapped_column(Float)


class CollectionStream(Base):
    """Per repository and stream: the last attempt and the last time the stream was collected to its end.

    Metrics read it to tell "collected, and there was none" from "not collected" (tracker/metrics/coverage.py).
    """

    __tablename__ = "collection_streams"
    __table_args__ = (CheckConstraint(_in("stream", STREAMS), name="stream"),)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_attempt_at: Mapped[dt.datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(20))  # ok | partial | failed | deadline
    last_success_at: Mapped[dt.datetime | None]


# --- compact activity aggregates (tracker/metrics/activity.py) ----------------------------------------------------------
# Derived from commits and the people as resolved: bots and merge commits left out, a sha in several repositories of a
# community (or of the whole database) counted once, under its smallest commit id. Kept in step by the collection job
# (in the page's transaction), by people resolution, and rebuilt by `mtx metrics --rebuild`. person_id is negative for
# an identity not resolved yet (-commit_identities.id); organisation_id 0 is "no organisation" (an individual).


class ActivityDay(Base):
    """Key order (community, person, organisation, day): a window's per-person sums read the key in order, without a
    sort; on SQLite the table is the key (WITHOUT ROWID)."""

    __tablename__ = "activity_days"
    __table_args__ = (Index("ix_activity_days_person_id", "person_id"), {"sqlite_with_rowid": False})
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # the Beijing date of the author time
    commits: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[dt.datetime]


class ActivityPerson(Base):
    """All-time commits per person and scope: kind c (community), r (repository), a (everything; scope_id 0)."""

    __tablename__ = "activity_people"
    __table_args__ = (Index("ix_activity_people_person_id", "person_id"),
                      CheckConstraint("kind IN ('c', 'r', 'a')", name="kind"), {"sqlite_with_rowid": False})
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    commits: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[dt.datetime]
    last_at: Mapped[dt.datetime]


class ActivityMonth(Base):
    """Commits per Beijing calendar month and person over the whole database (the overview's chart)."""

    __tablename__ = "activity_months"
    __table_args__ = (Index("ix_activity_months_person_id", "person_id"), {"sqlite_with_rowid": False})
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # first day of the month
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    commits: Mapped[int] = mapped_column(Integer)


class ActivityScope(Base):
    """What each scope's aggregates were built over: 'all', or 'c:<community id>' with a digest of its repositories."""

    __tablename__ = "activity_scopes"
    scope: Mapped[str] = mapped_column(String(30), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[dt.datetime] = mapped_column(default=utcnow)



class ActivityPending(Base):
    """A repository whose commits are stored but not yet in the aggregates: a first collection stores its pages
    without them and they are added in one pass after people resolution (tracker.metrics.activity.settle)."""

    __tablename__ = "activity_pending"
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[dt.datetime] = mapped_column(default=utcnow)

# --- the certificate award ledger -------------------------------------------------------------------------------------


class Enterprise(Base):
    __tablename__ = "enterprises"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    district: Mapped[str | None] = mapped_column(String(50))
    registered_in_chongqing: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    products: Mapped[list["Product"]] = relationship(back_populates="enterprise", order_by="Product.id")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("enterprise_id", "normalised_name", "product_type"),
                      CheckConstraint(_in("product_type", PRODUCT_TYPES), name="product_type"))
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    normalised_name: Mapped[str] = mapped_column(String(300))
    product_type: Mapped[str] = mapped_column(String(10))
    first_version: Mapped[bool] = mapped_column(Boolean, default=True)  # 首版次

    enterprise: Mapped[Enterprise] = relationship(back_populates="products")
    certificates: Mapped[list["Certificate"]] = relationship(back_populates="product", order_by="Certificate.pass_date")


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (CheckConstraint(_in("status", CERT_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    cert_no: Mapped[str] = mapped_column(String(100), unique=True)  # opaque: no published format
    issuer: Mapped[str] = mapped_column(String(200))
    programme: Mapped[str] = mapped_column(String(200))  # 证书类型, e.g. OpenHarmony生态产品兼容性证书
    os_version: Mapped[str | None] = mapped_column(String(40))  # normalised, e.g. 5.0.2
    api_level: Mapped[int | None]
    pass_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="valid")
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    derived_from_no: Mapped[str | None] = mapped_column(String(100))  # series / inherited certificate's source
    derived_from_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id", ondelete="SET NULL"))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship(back_populates="certificates")


class Award(Base):
    __tablename__ = "awards"
    __table_args__ = (CheckConstraint(_in("status", AWARD_STATUSES), name="status"),
                      CheckConstraint("amount >= 0", name="amount_non_negative"),
                      UniqueConstraint("certificate_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # yuan
    rule_set_version: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="computed")
    reason_code: Mapped[str | None] = mapped_column(String(50))
    reason: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None]
    paid_at: Mapped[dt.datetime | None]


# --- evaluation rounds ------------------------------------------------------------------------------------------------


class EvaluationRound(Base):
    """One call for applications (item 20), from draft to final; every step audited (tracker/rounds/lifecycle.py)."""

    __tablename__ = "evaluation_rounds"
    __table_args__ = (CheckConstraint(_in("status", ROUND_STATUSES), name="status"),
                      CheckConstraint(_in("aggregation", AGGREGATIONS), name="aggregation"),
                      UniqueConstraint("year", "name"))
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    data_cutoff: Mapped[dt.date] = mapped_column(Date)
    model_name: Mapped[str] = mapped_column(String(100))
    model_content: Mapped[dict[str, Any]]
    model_hash: Mapped[str] = mapped_column(String(64))
    budget: Mapped[int] = mapped_column(BigInteger, default=0)  # yuan
    max_award: Mapped[int] = mapped_column(BigInteger, default=0)  # yuan, per community
    aggregation: Mapped[str] = mapped_column(String(10), default="mean")
    min_experts: Mapped[int] = mapped_column(Integer, default=3)
    publicity_days: Mapped[int] = mapped_column(Integer, default=7)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[dt.datetime | None]
    checked_at: Mapped[dt.datetime | None]
    frozen_at: Mapped[dt.datetime | None]
    scored_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]
    allocation: Mapped[dict[str, Any] | None]  # the last `mtx rounds allocate`: rule, parameters, totals, notes
    decided_at: Mapped[dt.datetime | None]
    minutes_name: Mapped[str | None] = mapped_column(String(300))  # the committee's minutes, kept with the round
    minutes_sha256: Mapped[str | None] = mapped_column(String(64))
    minutes: Mapped[bytes | None] = mapped_column(LargeBinary)
    publicity_start: Mapped[dt.date | None] = mapped_column(Date)
    publicity_end: Mapped[dt.date | None] = mapped_column(Date)  # the last day of 公示
    final_at: Mapped[dt.datetime | None]


class RoundCandidate(Base):
    __tablename__ = "round_candidates"
    __table_args__ = (UniqueConstraint("round_id", "community_id"),
                      CheckConstraint(_in("check_status", CHECK_STATUSES), name="check_status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="RESTRICT"))
    applicant: Mapped[str | None] = mapped_column(String(200))
    enterprise_uscc: Mapped[str | None] = mapped_column(String(18))  # the applicant's 统一社会信用代码, if given
    note: Mapped[str | None] = mapped_column(Text)
    applied_by: Mapped[str | None] = mapped_column(String(100))
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    check_status: Mapped[str] = mapped_column(String(10), default="pending")
    check_reason: Mapped[str | None] = mapped_column(Text)
    check_items: Mapped[dict[str, Any] | None]  # the checklist as evaluated at the verdict
    checked_by: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[dt.datetime | None]
    integrity_flags: Mapped[list[Any] | None]  # set at the freeze (tracker/rounds/integrity.py), shown, never scored


class RoundExpert(Base):
    """An evaluator on a round's panel (a user name of role evaluator)."""

    __tablename__ = "round_experts"
    __table_args__ = (UniqueConstraint("round_id", "expert"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    expert: Mapped[str] = mapped_column(String(100))
    added_by: Mapped[str | None] = mapped_column(String(100))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RoundConflict(Base):
    """回避: an expert withdraws from one candidate (declared by the expert or recorded by the office)."""

    __tablename__ = "round_conflicts"
    __table_args__ = (UniqueConstraint("candidate_id", "expert"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("round_candidates.id", ondelete="CASCADE"))
    expert: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    declared_by: Mapped[str | None] = mapped_column(String(100))
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ExpertScore(Base):
    __tablename__ = "expert_scores"
    __table_args__ = (UniqueConstraint("candidate_id", "expert", "signal"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("round_candidates.id", ondelete="CASCADE"))
    expert: Mapped[str] = mapped_column(String(100))
    signal: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100))  # "sheet:<sha256 of the file>" or "form"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SignalValue(Base):
    """A signal's value frozen for a candidate when its round is frozen; null means missing, `reason` says why."""

    __tablename__ = "signal_values"
    __table_args__ = (UniqueConstraint("candidate_id", "signal"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("round_candidates.id", ondelete="CASCADE"))
    signal: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(30))  # tracker.vocab.METRIC_REASONS when value is null
    window: Mapped[str | None] = mapped_column(String(10))  # days, "all", or null (a state as of the cutoff)
    repositories: Mapped[int | None] = mapped_column(Integer)


class RoundResult(Base):
    __tablename__ = "round_results"
    __table_args__ = (UniqueConstraint("candidate_id"),
                      CheckConstraint(_in("status", SCORE_STATUSES), name="status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("round_candidates.id", ondelete="CASCADE"))
    score: Mapped[float | None] = mapped_column(Float)
    coverage: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), default="ranked")
    contributions: Mapped[dict[str, Any] | None]
    recommended_amount: Mapped[int | None] = mapped_column(BigInteger)  # the allocation rule's amount
    decided_amount: Mapped[int | None] = mapped_column(BigInteger)  # the committee's (equal unless it changed it)
    decision_reason: Mapped[str | None] = mapped_column(Text)


class RoundObjection(Base):
    """异议 during 公示: written, never anonymous (name, unit, contact, evidence); the identity shown to administrators."""

    __tablename__ = "round_objections"
    __table_args__ = (CheckConstraint(_in("status", OBJECTION_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    objector: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(300))
    contact: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    evidence_name: Mapped[str] = mapped_column(String(300))
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[bytes] = mapped_column(LargeBinary)
    received_by: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None]


# --- users and the audit log ------------------------------------------------------------------------------------------


class User(Base):
    """An account of the app. `username_key` is the username normalised (see tracker.users.username_key): unique, so
    names differing only by case, width, spaces or invisible characters cannot both exist, and what sign-in matches."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("(role = 'enterprise') = (enterprise_id IS NOT NULL)", name="enterprise_link"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    username_key: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    last_failed_login_at: Mapped[dt.datetime | None]  # with failed_logins, when the next attempt may come
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # set by an administrator's password reset: until the user changes it, the app shows only 修改密码
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the organisation an evaluator works for (rounds suggest conflicts from it); None when unknown
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    last_sign_in_at: Mapped[dt.datetime | None]  # the last successful sign-in (None: none since migration 0012)


class AuditEntry(Base):
    """Append-only: database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(100), index=True)
    entity: Mapped[str] = mapped_column(String(50), index=True)
    entity_key: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
