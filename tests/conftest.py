"""Shared fixtures: real databases (a SQLite file always; PostgreSQL when MTX_TEST_DATABASE_URL is set).

Tests marked `postgres` run once per available backend. Each test gets its own database, copied (SQLite) or cloned as
a template (PostgreSQL) from one migrated at the start of the session, so every test starts at schema head and empty.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tracker import db as dbm

PG_ADMIN_URL = os.environ.get("MTX_TEST_DATABASE_URL", "").strip()
ROOT = Path(__file__).resolve().parent.parent


def backends_for(item_markers) -> list[str]:
    if PG_ADMIN_URL and any(m.name == "postgres" for m in item_markers):
        return ["sqlite", "postgresql"]
    return ["sqlite"]


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", backends_for(metafunc.definition.iter_markers()), scope="function")


def _pg_url(database: str) -> str:
    return make_url(dbm.normalise_url(PG_ADMIN_URL)).set(database=database).render_as_string(hide_password=False)


def _pg_admin():
    return create_engine(dbm.normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")


class PostgresDatabases:
    """Creates throw-away PostgreSQL databases and drops them afterwards."""

    def __init__(self) -> None:
        self.admin = _pg_admin()
        self.template: str | None = None

    def create(self, migrated: bool) -> str:
        name = f"mtx_test_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            if migrated:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.migrated_template()}"'))
            else:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        return _pg_url(name)

    def migrated_template(self) -> str:
        if self.template is None:
            name = f"mtx_tmpl_{uuid.uuid4().hex[:10]}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = _pg_url(name)
            dbm.upgrade(url)
            dbm.dispose_engine(url)
            self.template = name
        return self.template

    def drop(self, url: str) -> None:
        dbm.dispose_engine(url)
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self.template:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases():
    if not PG_ADMIN_URL:
        yield None
        return
    databases = PostgresDatabases()
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    dbm.upgrade(url)
    dbm.dispose_engine(url)
    return path


@pytest.fixture
def backend() -> str:  # replaced by parametrisation in pytest_generate_tests
    return "sqlite"


@pytest.fixture
def empty_db_url(backend, tmp_path, pg_databases):
    """A database URL with no schema at all."""
    if backend == "postgresql":
        url = pg_databases.create(migrated=False)
        yield url
        pg_databases.drop(url)
    else:
        url = f"sqlite:///{tmp_path / 'mtx.db'}"
        yield url
        dbm.dispose_engine(url)


@pytest.fixture
def db_url(backend, tmp_path, pg_databases, sqlite_template):
    """A database URL at schema head, empty."""
    if backend == "postgresql":
        url = pg_databases.create(migrated=True)
        yield url
        pg_databases.drop(url)
    else:
        path = tmp_path / "mtx.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
        yield url
        dbm.dispose_engine(url)


@pytest.fixture
def session(db_url):
    factory = dbm.session_factory(db_url)
    with factory() as s:
        yield s


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """A scale-1 sample database (SQLite file), built once per test session. Copy it before changing it."""
    from tracker.sample import build_sample

    path = tmp_path_factory.mktemp("sample") / "sample.db"
    url = f"sqlite:///{path}"
    dbm.upgrade(url)
    build_sample(url, scale=1)
    dbm.dispose_engine(url)
    return path


def _private_copy(source: Path, path: Path):
    """A copy of a session-built SQLite database for one test; its engine is disposed of afterwards."""
    shutil.copyfile(source, path)
    url = f"sqlite:///{path}"
    yield url
    dbm.dispose_engine(url)


@pytest.fixture
def sample_db_url(sample_db, tmp_path) -> str:
    """A private copy of the scale-1 sample."""
    yield from _private_copy(sample_db, tmp_path / "sample.db")


@pytest.fixture(scope="session")
def demo_db(sample_db, tmp_path_factory) -> Path:
    """The sample as `mtx demo` serves it: demo accounts and the demo round (frozen, two experts' scores in). Copy it."""
    from tracker.cli.sample import ensure_demo_accounts
    from tracker.sample.demo_round import ensure_demo_round

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(sample_db, path)
    url = f"sqlite:///{path}"
    ensure_demo_accounts(url)
    ensure_demo_round(url, Path(__file__).resolve().parents[1] / "config")
    dbm.dispose_engine(url)
    return path


@pytest.fixture
def demo_db_url(demo_db, tmp_path) -> str:
    """A private copy of the demo database."""
    yield from _private_copy(demo_db, tmp_path / "demo.db")
