"""`mtx sample` fills a database with the bundled sample; `mtx demo` builds the demo database and serves the app."""
from __future__ import annotations

import datetime as dt
import importlib.util
import os
import sys
from pathlib import Path

import typer

from tracker import db as dbm
from tracker.cli import app, fail, parse_date, state

DEMO_DB = "mtx-demo.db"
DEMO_ACCOUNTS = [  # (username, role, password): a local demo's accounts, printed on start
    ("admin", "admin", "mtx-demo-admin"),
    ("evaluator", "evaluator", "mtx-demo-evaluator"),
    ("enterprise", "enterprise", "mtx-demo-enterprise"),
]


def build_into(url: str, scale: int, seed: int, as_of: dt.date | None, config_dir: Path | None = None):
    from tracker.ledger.rules import rules_from_config
    from tracker.progress import progress_reporter
    from tracker.sample import DEFAULT_AS_OF, build_sample
    from tracker.sample.build import SampleError

    dbm.upgrade(url)
    with progress_reporter("sample") as report:
        try:
            rules = rules_from_config(config_dir) if config_dir and (config_dir / "awards.yaml").exists() else None
            return build_sample(url, scale=scale, seed=seed, as_of=as_of or DEFAULT_AS_OF, progress=report,
                                rules=rules)
        except SampleError as exc:
            fail(str(exc))


@app.command()
def sample(
    ctx: typer.Context,
    scale: int = typer.Option(1, "--scale", min=1, help="1 = the demo; S = 10·S communities, 100·S repos, 20,000·S commits"),
    seed: int = typer.Option(2025, "--seed", help="same seed, same database"),
    as_of: str = typer.Option(None, "--as-of", help="示例数据的最后一天（北京时间）/ the last day of the sample's two "
                                                    "years, a Beijing date: activity up to YYYY-MM-DD 23:59:59 +08:00 "
                                                    "(default 2026-10-31)"),
) -> None:
    """生成示例数据 / fill the database with deterministic, fictional sample data (offline; administrators only)."""
    require_admin(state(ctx).db_url, state(ctx).user)
    summary = build_into(state(ctx).db_url, scale, seed, parse_date(as_of, "--as-of"), state(ctx).config_dir)
    counts = ", ".join(f"{k} {v:,}" for k, v in summary.counts.items())
    typer.echo(f"示例数据已生成 / sample built (scale {scale}, seed {seed}) in {summary.seconds:.1f} s: {counts}")


def require_admin(url: str, name: str) -> None:
    """Refuse a non-administrator before any sample row is written (the schema is brought to head first, as `mtx init`
    would for anyone, so the users can be read)."""
    from tracker.access import require_role, resolve_actor

    dbm.upgrade(url)
    with dbm.session_scope(url) as session:
        require_role(resolve_actor(session, name), "admin", action="mtx sample (fill the database with sample data)")


def app_path() -> Path:
    """The Streamlit entry point: app.py next to the packages (source checkout) or installed as a module."""
    here = Path(__file__).resolve().parents[2] / "app.py"
    if here.exists():
        return here
    spec = importlib.util.find_spec("app")
    if spec and spec.origin:
        return Path(spec.origin)
    fail("app.py not found: reinstall mantianxing-tracker")
    raise AssertionError  # unreachable


def ensure_demo_accounts(url: str) -> None:
    from sqlalchemy import select

    from tracker.access import SYSTEM
    from tracker.models import Enterprise, User
    from tracker.users import create_user

    with dbm.session_scope(url) as session:
        # the enterprise account belongs to the sample's first enterprise: three products, the ceiling case
        enterprise = session.scalar(select(Enterprise).order_by(Enterprise.id).limit(1))
        for username, role, password in DEMO_ACCOUNTS:
            if session.scalar(select(User).where(User.username == username)):
                continue
            create_user(session, SYSTEM, username, role, password,
                        enterprise.uscc if role == "enterprise" and enterprise else None,
                        display_name={"admin": "演示管理员", "evaluator": "演示评审专家",
                                      "enterprise": "演示企业用户"}[role])


@app.command()
def demo(
    ctx: typer.Context,
    port: int = typer.Option(8501, "--port", help="port of the app"),
    reset: bool = typer.Option(False, "--reset", help="rebuild mtx-demo.db from scratch"),
    address: str = typer.Option("127.0.0.1", "--address", help="address to listen on"),
) -> None:
    """演示：生成 mtx-demo.db 并启动应用 / build (or reuse) mtx-demo.db from the sample and serve the app."""
    path = Path.cwd() / DEMO_DB
    url = f"sqlite:///{path}"
    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    if path.exists():
        dbm.upgrade(url)
        typer.echo(f"复用演示数据库 / reusing {path} (--reset rebuilds it)")
    else:
        summary = build_into(url, 1, 2025, None, state(ctx).config_dir)
        typer.echo(f"演示数据库已生成 / built {path} in {summary.seconds:.1f} s")
    ensure_demo_accounts(url)
    from tracker.sample.demo_round import NAME, ensure_demo_round

    round_id = ensure_demo_round(url, state(ctx).config_dir)
    dbm.dispose_engine(url)
    typer.echo("演示账号 / demo accounts:")
    for username, role, password in DEMO_ACCOUNTS:
        typer.echo(f"  {role:<11} 用户名 {username:<11} 密码 {password}")
    typer.echo(f"演示评审轮次 / demo round {round_id}: {NAME}（数据已冻结，等待 evaluator 评分 / frozen, waiting for the "
               "evaluator's scores)")
    typer.echo(f"打开 / open: http://{'localhost' if address in ('127.0.0.1', '0.0.0.0') else address}:{port}")
    sys.stdout.flush()
    env = dict(os.environ, MTX_DATABASE_URL=url)
    argv = [sys.executable, "-m", "streamlit", "run", str(app_path()), "--server.headless", "true",
            "--server.port", str(port), "--server.address", address, "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"]
    os.execve(sys.executable, argv, env)
