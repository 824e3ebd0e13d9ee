"""The `mtx` command line. Global options come before the subcommand; each group lives in its own module.

Exit codes: 0 success, 1 a failure the user must act on (message on stderr), 2 bad usage (from Click).
Start-up stays fast because the command modules are shims: at module level they import only Typer and light tracker
modules, and each command imports its implementation inside its function (tests/foundation/test_cli_startup.py
checks that `mtx --help` loads no SQLAlchemy, pydantic, argon2 or Rich; `python -m bench.startup` measures it).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer

from tracker.access import AccessDenied, os_login
from tracker.db import DEFAULT_URL, DatabaseError

app = typer.Typer(
    name="mtx",
    help="满天星 Tracker: 开源社区活跃度与开源鸿蒙认证奖励 / open-source community metrics and OpenHarmony award ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never print local variables (tokens, passwords) in a traceback
    rich_markup_mode=None,  # Click's plain help: formatting it with Rich costs more than the rest of `mtx --help`
    context_settings={"help_option_names": ["-h", "--help"]},
)


class UserFacingError(Exception):
    """A failure the user must act on: printed without a traceback, exit code 1."""


@dataclass
class State:
    db_url: str
    config_dir: Path
    user: str


@app.callback()
def _global(
    ctx: typer.Context,
    db: str = typer.Option(DEFAULT_URL, "--db", envvar="MTX_DATABASE_URL", show_envvar=True,
                           help="数据库地址 / database URL (sqlite:///mtx.db or postgresql://user@host/db)"),
    config: Path = typer.Option(Path("config"), "--config", envvar="MTX_CONFIG", show_envvar=True,
                                help="配置目录 / configuration directory"),
    as_user: Optional[str] = typer.Option(None, "--as", envvar="MTX_USER", show_envvar=True,
                                          help="以此用户身份操作，记入审计日志 / act as this user (default: OS login)"),
) -> None:
    ctx.obj = State(db_url=db, config_dir=config, user=as_user or os_login())


def state(ctx: typer.Context) -> State:
    return ctx.find_root().obj


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def fail(message: str) -> None:
    raise UserFacingError(message)


def open_session(ctx: typer.Context):
    """A transaction on the --db database, refused with the fix when its schema is not at head."""
    from tracker import db as dbm

    st = state(ctx)
    dbm.ensure_schema_current(st.db_url)
    return dbm.session_scope(st.db_url)


def parse_date(value: str | None, option: str):
    """A YYYY-MM-DD option value ('today' allowed), a Beijing date; bad usage (exit 2) otherwise. A command that needs
    an instant takes the end of that Beijing day: tracker.formatting.beijing_day_end."""
    from tracker.formatting import parse_user_date

    if value is None:
        return None
    try:
        return parse_user_date(value)
    except ValueError:
        raise typer.BadParameter("日期写作 YYYY-MM-DD（或 today）/ write the date as YYYY-MM-DD (or 'today')",
                                 param_hint=option) from None


# command modules register themselves on `app`
from tracker.cli import collect, core, ledger, metrics, people, rounds, sample, scoring  # noqa: E402,F401  (each registers its commands)


def _user_facing(exc: Exception) -> bool:
    """A failure to print without a traceback. Configuration errors are recognised without importing the
    configuration reader: a module never imported cannot have raised one."""
    yamlsource = sys.modules.get("tracker.yamlsource")
    return isinstance(exc, (UserFacingError, DatabaseError, AccessDenied)) or (
        yamlsource is not None and isinstance(exc, yamlsource.ConfigError))


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, prog_name="mtx", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        typer.echo("mtx: interrupted", err=True)
        return 130
    except Exception as exc:
        if not _user_facing(exc):
            raise
        typer.echo(f"mtx: {exc}", err=True)
        return 1
    return 0


def entrypoint() -> None:
    sys.exit(main())
