"""Database access: one engine per URL, sessions, and schema upgrades through Alembic.

SQLite is the embedded default (a file in the working directory); PostgreSQL is production. Everything else in
`tracker/` talks to the database through the session this module hands out, never through a raw driver.
SQLAlchemy is imported when a database is first used, not with this module, so `mtx --help` starts without it.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///mtx.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseError(RuntimeError):
    """A database problem the user must act on (bad URL, unreachable server, schema behind)."""


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pick the psycopg 3 driver for PostgreSQL."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown without its credentials part
        return url.split("@")[-1]



def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str = DEFAULT_URL) -> Engine:
    """One engine per URL per process; SQLite gets foreign keys, WAL and a busy timeout."""
    url = normalise_url(url)
    if url not in _ENGINES:
        _ENGINES[url] = _create_engine(url)
    return _ENGINES[url]


def dispose_engine(url: str) -> None:
    """Close a URL's pooled connections and forget its engine (before dropping a database, or after a fork)."""
    engine = _ENGINES.pop(normalise_url(url), None)
    if engine is not None:
        engine.dispose()


def _create_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseError(f"数据库地址无法解析 / cannot parse database URL {safe_url(url)!r}: {exc}. "
                            "Use e.g. sqlite:///mtx.db or postgresql://user@host/dbname") from None
    kwargs: dict = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
        db_path = parsed.database
        if db_path and db_path != ":memory:":
            parent = Path(db_path).expanduser().resolve().parent
            if not parent.exists():
                raise DatabaseError(f"SQLite 数据库所在目录不存在 / directory {parent} does not exist; create it first")
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if parsed.database and parsed.database != ":memory:":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(get_engine(url), expire_on_commit=False, future=True)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session whose work commits together or not at all."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["mtx_url"] = normalise_url(url)
    return cfg


def head_revision() -> str:
    """The newest migration. Read from the scripts' `revision`/`down_revision` lines, without importing Alembic (a
    third of `mtx status`'s start-up); anything but one plain chain (merges, branches) is left to Alembic."""
    import ast

    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        values = {node.targets[0].id: node.value for node in ast.parse(path.read_text(encoding="utf-8")).body
                  if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)}
        revision, parent = values.get("revision"), values.get("down_revision")
        if not (isinstance(revision, ast.Constant) and isinstance(parent, ast.Constant)):
            return _alembic_head()
        revisions.add(revision.value)
        if parent.value is not None:
            parents.add(parent.value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else _alembic_head()


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(DEFAULT_URL)).get_current_head()


def current_revision(url: str) -> str | None:
    """The revision recorded in the database's `alembic_version` table (None before `mtx init`), read with plain SQL
    so that checking it does not import Alembic."""
    from sqlalchemy import inspect, text

    with get_engine(url).connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to `revision`; returns (before, after). Running it at head changes nothing."""
    from alembic import command

    try:
        before = current_revision(url)
    except Exception as exc:
        raise DatabaseError(f"无法连接数据库 / cannot connect to {safe_url(url)}: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    cfg = alembic_config(url)
    command.upgrade(cfg, revision)
    return before, current_revision(url)


def ensure_schema_current(url: str) -> None:
    """Refuse to work on a database whose schema is not at head, with the fix in the message."""
    from sqlalchemy.engine import make_url

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        raise DatabaseError(f"数据库文件 {parsed.database} 不存在 / database file does not exist. "
                            f"请先运行 / run first: mtx --db '{safe_url(url)}' init")
    try:
        current = current_revision(url)
    except Exception as exc:
        raise DatabaseError(f"无法连接数据库 / cannot connect to {safe_url(url)}: {type(exc).__name__}") from None
    head = head_revision()
    if current != head:
        state = "未初始化 / not initialised" if current is None else f"版本 {current}，最新为 {head} / at {current}, head is {head}"
        raise DatabaseError(f"数据库 {safe_url(url)} 结构{state}. 请先运行 / run first: mtx --db '{safe_url(url)}' init")

