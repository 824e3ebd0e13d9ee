"""Core commands: init, config check, users, enterprises."""
from __future__ import annotations

from typing import Optional

import typer

from tracker import db as dbm
from tracker.access import resolve_actor
from tracker.cli import app, emit_json, fail, open_session, state
from tracker.vocab import ROLES

config_app = typer.Typer(help="配置 / configuration", no_args_is_help=True)
users_app = typer.Typer(help="用户 / users of the app", no_args_is_help=True)
enterprises_app = typer.Typer(help="企业 / enterprises", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(users_app, name="users")
app.add_typer(enterprises_app, name="enterprises")


@app.command()
def init(ctx: typer.Context) -> None:
    """创建或升级数据库结构 / create or upgrade the schema (idempotent)."""
    st = state(ctx)
    before, after = dbm.upgrade(st.db_url)
    where = dbm.safe_url(st.db_url)
    if before == after:
        typer.echo(f"数据库已是最新 / schema already at head ({after}): {where}")
    else:
        typer.echo(f"数据库结构 {before or '(空)'} -> {after} / schema upgraded: {where}")
    from tracker.workers.schema import apply_queue_schema, is_postgres, queue_installed

    if is_postgres(st.db_url) and queue_installed():  # the job queue of `mtx worker` (the `workers` extra)
        if apply_queue_schema(st.db_url):
            typer.echo("任务队列已创建 / job queue schema applied (procrastinate, token quota)")


@config_app.command("check")
def config_check(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON output")) -> None:
    """校验全部配置 / validate every configuration file; exit 1 on any error."""
    from tracker.config import check_config

    st = state(ctx)
    config, problems = check_config(st.config_dir)
    if config is not None:  # corrections in the database that the identity and organisation files contradict
        from tracker.people.checks import database_disagreements

        problems = problems + database_disagreements(st.db_url, config)
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        emit_json({"ok": not errors, "problems": [p.as_dict() for p in problems]})
    else:
        for p in problems:
            typer.echo(p.render(), err=p.severity == "error")
        if errors:
            typer.echo(f"{len(errors)} 个错误, {len(problems) - len(errors)} 个警告 / "
                       f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)", err=True)
        else:
            communities = len(config.communities.communities) if config else 0
            typer.echo(f"配置有效 / configuration OK: {communities} communities, "
                       f"{len(config.model_names()) if config else 0} scoring models"
                       + (f", {len(problems)} warning(s)" if problems else ""))
    if errors:
        raise typer.Exit(1)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: str,
    role: str = typer.Option(..., "--role", help=" / ".join(f"{t.value} {t.zh}" for t in ROLES)),
    enterprise: Optional[str] = typer.Option(None, "--enterprise", help="企业统一社会信用代码 / the enterprise's USCC"),
    organisation: Optional[str] = typer.Option(None, "--organisation",
                                               help="评审专家所属组织（名称，见 mtx orgs list）/ the organisation an "
                                                    "evaluator works for (its name as mtx orgs list shows it)"),
    password_env: Optional[str] = typer.Option(None, "--password-env",
                                               help="name of an environment variable holding the password"),
) -> None:
    """添加用户 / add a user (the password is read from a prompt or an environment variable, never an argument)."""
    import os

    from tracker.user_admin import UserAdminError, add_user

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES.values)}", param_hint="--role")
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            fail(f"environment variable {password_env} is not set")
    else:
        password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    with open_session(ctx) as session:
        actor = resolve_actor(session, state(ctx).user)
        try:
            user, _ = add_user(session, actor, username, role, password, enterprise_uscc=enterprise,
                               organisation=organisation)
            username = user.username  # as stored
        except UserAdminError as exc:
            fail(str(exc))
    typer.echo(f"已添加用户 / added user {username} ({role})" + (f", {organisation}" if organisation else ""))


def _account_change(ctx: typer.Context, change, username: str):
    """Run one tracker.user_admin change as the --as user, in one transaction; its refusal is the exit-1 message."""
    from tracker.user_admin import UserAdminError

    with open_session(ctx) as session:
        actor = resolve_actor(session, state(ctx).user)
        try:
            return change(session, actor, username)
        except UserAdminError as exc:
            fail(str(exc))


@users_app.command("reset-password")
def users_reset_password(ctx: typer.Context, username: str = typer.Argument(..., metavar="USER")) -> None:
    """重置密码 / give USER a one-time password (printed once); it must be changed at the next sign-in."""
    from tracker.user_admin import find_user, reset_password

    def reset(session, actor, name):
        password = reset_password(session, actor, name)  # checks the role before the name is looked up
        return find_user(session, name).username, password

    username, password = _account_change(ctx, reset, username)
    typer.echo(f"一次性密码 / one-time password for {username}: {password}")
    typer.echo("只显示这一次；首次登录后须修改 / shown once; it must be changed at the next sign-in")


@users_app.command("unlock")
def users_unlock(ctx: typer.Context, username: str = typer.Argument(..., metavar="USER")) -> None:
    """解除锁定 / lift USER's sign-in lockout and delay (the failure count starts again from 0)."""
    from tracker.user_admin import unlock

    user = _account_change(ctx, unlock, username)
    typer.echo(f"已解除锁定 / unlocked {user.username}")


@users_app.command("deactivate")
def users_deactivate(ctx: typer.Context, username: str = typer.Argument(..., metavar="USER")) -> None:
    """停用账号 / USER can no longer sign in; an open app session ends on its next page run."""
    from tracker.user_admin import deactivate

    user = _account_change(ctx, deactivate, username)
    typer.echo(f"已停用 / deactivated {user.username}")


@users_app.command("activate")
def users_activate(ctx: typer.Context, username: str = typer.Argument(..., metavar="USER")) -> None:
    """启用账号 / let a deactivated USER sign in again."""
    from tracker.user_admin import activate

    user = _account_change(ctx, activate, username)
    typer.echo(f"已启用 / activated {user.username}")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """列出用户 / list users (administrators only): role, enterprise or organisation, state (active, disabled,
    locked until), failed sign-ins, a password change due, the last sign-in — what 用户管理 shows."""
    from tracker.user_admin import user_table

    with open_session(ctx) as session:
        rows = user_table(session, resolve_actor(session, state(ctx).user))
    if as_json:
        emit_json([{k: r[k] for k in ("username", "display_name", "role", "enterprise", "uscc", "organisation",
                                       "active", "locked", "locked_until", "failed_logins", "must_change_password",
                                       "last_sign_in_at")} for r in rows])
        return
    for r in rows:
        if not r["active"]:
            condition = "disabled 已停用"
        elif r["locked"]:
            condition = f"locked 已锁定 until {r['locked_until']:%Y-%m-%d %H:%M} UTC"
        else:
            condition = "active 正常"
        notes = [f"{r['failed_logins']} failed 次失败" if r["failed_logins"] else "",
                 "must change password 须改密码" if r["must_change_password"] else "",
                 f"last sign-in 最近登录 {r['last_sign_in_at']:%Y-%m-%d %H:%M} UTC" if r["last_sign_in_at"] else
                 "never signed in 未登录"]
        where = r["enterprise"] or r["organisation"] or ""
        typer.echo(f"{r['username']:<20} {r['role']:<11} {where:<24} {condition}"
                   + "".join(f"; {n}" for n in notes if n))


@enterprises_app.command("list")
def enterprises_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """列出企业 / list enterprises you may see."""
    from tracker.enterprises import list_enterprises

    with open_session(ctx) as session:
        rows = list_enterprises(session, resolve_actor(session, state(ctx).user))
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['uscc']}  {r['name']}  {r['district'] or ''}  产品 {r['products']}  证书 {r['certificates']}")


@enterprises_app.command("show")
def enterprises_show(ctx: typer.Context, uscc: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """查看企业 / show one enterprise."""
    from tracker.enterprises import NotFound, enterprise_dict, get_enterprise

    with open_session(ctx) as session:
        try:
            enterprise = get_enterprise(session, resolve_actor(session, state(ctx).user), uscc)
        except NotFound as exc:
            fail(str(exc))
        data = enterprise_dict(enterprise) | {"products": [
            {"name": p.name, "type": p.product_type, "first_version": p.first_version,
             "certificates": [c.cert_no for c in p.certificates]} for p in enterprise.products]}
    if as_json:
        emit_json(data)
    else:
        typer.echo(f"{data['name']} ({data['uscc']}) {data['district'] or ''}")
        for p in data["products"]:
            typer.echo(f"  {p['name']} [{p['type']}] {', '.join(p['certificates'])}")
