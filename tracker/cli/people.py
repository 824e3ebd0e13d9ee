"""`mtx people ...` and `mtx orgs ...`: resolved people and organisations, and administrators' corrections.

Reading needs an evaluator or administrator; changing needs an administrator. Every change is a correction keyed by
e-mail or platform:login (audited) and is applied at once by a resolution; e-mails are masked unless an
administrator passes --show-emails.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import yaml

from tracker.access import resolve_actor
from tracker.cli import app, emit_json, fail, open_session, parse_date, state

people_app = typer.Typer(help="人员 / people: one person behind many e-mails and accounts", no_args_is_help=True)
orgs_app = typer.Typer(help="组织 / organisations contributors are attributed to", no_args_is_help=True)
app.add_typer(people_app, name="people")
app.add_typer(orgs_app, name="orgs")

SHOW_EMAILS = typer.Option(False, "--show-emails", help="完整邮箱（仅管理员）/ unmasked e-mails (administrators only)")
AS_JSON = typer.Option(False, "--json", help="JSON output")


def _config(ctx: typer.Context):
    from tracker.config import load_config

    return load_config(state(ctx).config_dir)


def _resolve(session, actor, config):
    from tracker.people.resolve import resolve_people

    return resolve_people(session, actor, config.identities, config.organisations)


def _change(ctx: typer.Context, action, message: str) -> None:
    """Record one correction and apply it with a resolution, all in one transaction."""
    from tracker.people.changes import apply_change
    from tracker.people.corrections import PeopleError

    config = _config(ctx)
    with open_session(ctx) as session:
        actor = resolve_actor(session, state(ctx).user)
        try:
            correction, report = apply_change(session, actor, config, action)
        except (PeopleError, LookupError) as exc:
            fail(str(exc))
    typer.echo(f"{message} (correction {correction.id})")
    typer.echo(report.line())


def _date(value) -> str:
    return value.isoformat()[:10] if value else "-"


@people_app.command("list")
def people_list(ctx: typer.Context,
                community: Optional[str] = typer.Option(None, "--community", help="only people with commits here"),
                bots: bool = typer.Option(False, "--bots", help="only bots"),
                search: Optional[str] = typer.Option(None, "--search", help="name, e-mail or login contains TEXT"),
                show_emails: bool = SHOW_EMAILS, as_json: bool = AS_JSON) -> None:
    """列出人员 / list people: accounts, e-mails, commits, first and last commit, bot flag, organisation."""
    from tracker.people.queries import list_people, record_reveal

    with open_session(ctx) as session:
        actor = resolve_actor(session, state(ctx).user)
        try:
            rows = list_people(session, actor, community, bots, search, show_emails)
        except LookupError as exc:
            fail(str(exc))
        if show_emails:  # full addresses are personal data: who looked is audited
            record_reveal(session, actor, "people", len(rows), {"community": community, "bots": bots,
                                                               "search": search})
    if as_json:
        emit_json(rows)
        return
    typer.echo(f"{'id':>6} {'name':<20} {'commits':>7} {'first':<10} {'last':<10} {'bot':<3} "
               f"{'organisation':<24} accounts / e-mails")
    for r in rows:
        typer.echo(f"{r['id']:>6} {r['name'][:20]:<20} {r['commits']:>7} {_date(r['first_commit']):<10} "
                   f"{_date(r['last_commit']):<10} {'yes' if r['is_bot'] else '':<3} {(r['organisation'] or '-')[:24]:<24} "
                   f"{' '.join(r['accounts'] + r['emails'])}")
    typer.echo(f"{len(rows)} 人 / people")


@people_app.command("show")
def people_show(ctx: typer.Context, ref: str = typer.Argument(..., metavar="ID|EMAIL|PLATFORM:LOGIN"),
                show_emails: bool = SHOW_EMAILS, as_json: bool = AS_JSON) -> None:
    """查看人员 / one person: accounts, e-mails, affiliations over time, and the rule behind each join."""
    from tracker.people.corrections import PeopleError
    from tracker.people.queries import record_reveal, show_person

    with open_session(ctx) as session:
        actor = resolve_actor(session, state(ctx).user)
        try:
            data = show_person(session, actor, ref, show_emails)
        except PeopleError as exc:
            fail(str(exc))
        if show_emails:
            record_reveal(session, actor, "person", len(data["identities"]), {"person": data["id"]})
    if as_json:
        emit_json(data)
        return
    bot = f"  机器人 / bot ({data['bot_reason']})" if data["is_bot"] else ""
    typer.echo(f"{data['id']} {data['name']}{bot}: {data['commits']} commits "
               f"{_date(data['first_commit'])} .. {_date(data['last_commit'])}, 组织 / organisation "
               f"{data['organisation'] or '-'}")
    typer.echo("账号 / accounts:")
    for a in data["accounts"]:
        typer.echo(f"  {a['platform']}:{a['login']}  [{a['rule']}{' via ' + a['via'] if a['via'] else ''}]")
    typer.echo("提交身份 / commit identities:")
    for i in data["identities"]:
        typer.echo(f"  {i['email'] or '(no e-mail)'}  {i['name'] or ''}  [{i['rule']}"
                   f"{' via ' + i['via'] if i['via'] else ''}]  {i['organisation'] or '(individual)'}")
    typer.echo("任职 / affiliations:")
    for f in data["affiliations"]:
        typer.echo(f"  {f['organisation']}  {_date(f['start'])} .. {_date(f['end'])}  ({f['source']})")
    for c in data["corrections"]:
        typer.echo(f"更正 / correction {c['id']}: {c['kind']} {c['subject']} {c['object'] or ''} "
                   f"by {c['actor']}: {c['reason'] or ''}")
    for s in data["suggestions"]:
        typer.echo(f"建议 / suggestion {s['id']}: {s['a']} + {s['b']} ({s['detail']})")


@people_app.command("merge")
def people_merge(ctx: typer.Context, a: str = typer.Argument(..., metavar="A"),
                 b: str = typer.Argument(..., metavar="B"),
                 reason: Optional[str] = typer.Option(None, "--reason", help="why (kept in the audit log)")) -> None:
    """合并 / merge two people (ID, EMAIL or PLATFORM:LOGIN each): one person from now on."""
    from tracker.people.corrections import merge

    _change(ctx, lambda s, actor, _c: merge(s, actor, a, b, reason), f"已合并 / merged {a} and {b}")


@people_app.command("split")
def people_split(ctx: typer.Context, person: str = typer.Argument(..., metavar="ID"),
                 ref: str = typer.Argument(..., metavar="EMAIL|PLATFORM:LOGIN"),
                 reason: Optional[str] = typer.Option(None, "--reason", help="why (kept in the audit log)")) -> None:
    """拆分 / take one address or account out of a person: it is kept apart from now on."""
    from tracker.people.corrections import split

    _change(ctx, lambda s, actor, _c: split(s, actor, person, ref, reason), f"已拆分 / split {ref} from {person}")


@people_app.command("bot")
def people_bot(ctx: typer.Context, person: str = typer.Argument(..., metavar="ID"),
               flag: Optional[bool] = typer.Option(None, "--yes/--no", help="a bot, or not a bot"),
               reason: Optional[str] = typer.Option(None, "--reason")) -> None:
    """机器人标记 / mark a person as a bot (--yes) or as a human (--no), overriding the rules."""
    from tracker.people.corrections import set_bot

    if flag is None:
        raise typer.BadParameter("say --yes or --no", param_hint="--yes/--no")
    _change(ctx, lambda s, actor, _c: set_bot(s, actor, person, flag, reason),
            f"已标记 / person {person}: {'bot' if flag else 'not a bot'}")


@people_app.command("suggest")
def people_suggest(ctx: typer.Context,
                   accept: Optional[int] = typer.Option(None, "--accept", help="merge suggestion N"),
                   reject: Optional[int] = typer.Option(None, "--reject", help="keep suggestion N's pair apart"),
                   reason: Optional[str] = typer.Option(None, "--reason"),
                   show_emails: bool = SHOW_EMAILS, as_json: bool = AS_JSON) -> None:
    """合并建议 / joins the rules would not make alone (same-platform chain, one login on two platforms)."""
    from tracker.people.corrections import settle_suggestion
    from tracker.people.queries import list_suggestions

    if accept is not None or reject is not None:
        if accept is not None and reject is not None:
            raise typer.BadParameter("give --accept or --reject, not both")
        number = accept if accept is not None else reject
        _change(ctx, lambda s, actor, _c: settle_suggestion(s, actor, number, accept is not None, reason),
                f"建议 {number} 已{'接受' if accept is not None else '拒绝'} / suggestion {number} "
                f"{'accepted' if accept is not None else 'rejected'}")
        return
    from tracker.people.queries import record_reveal

    with open_session(ctx) as session:
        actor = resolve_actor(session, state(ctx).user)
        rows = list_suggestions(session, actor, show_emails)
        if show_emails:
            record_reveal(session, actor, "person_suggestions", len(rows))
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['id']:>5}  {r['a']}  +  {r['b']}  [{r['rule']}] {r['detail'] or ''}")
    typer.echo(f"{len(rows)} 条建议 / suggestions (mtx people suggest --accept N | --reject N)")


@people_app.command("affiliate")
def people_affiliate(ctx: typer.Context, person: str = typer.Argument(..., metavar="ID|EMAIL|PLATFORM:LOGIN"),
                     organisation: str = typer.Argument(..., metavar="ORGANISATION"),
                     start: Optional[str] = typer.Option(None, "--start", help="YYYY-MM-DD (inclusive)"),
                     end: Optional[str] = typer.Option(None, "--end", help="YYYY-MM-DD (exclusive)"),
                     reason: Optional[str] = typer.Option(None, "--reason")) -> None:
    """任职 / a dated affiliation (wins over identities.yaml and the e-mail domain on the dates it covers)."""
    from tracker.people.corrections import affiliate
    from tracker.people.resolve import organisation_names

    begin, until = parse_date(start, "--start"), parse_date(end, "--end")
    _change(ctx, lambda s, actor, c: affiliate(s, actor, person, organisation, begin, until,
                                               organisation_names(c.organisations), reason),
            f"已记录任职 / {person}: {organisation} {begin or '-'} .. {until or '-'}")


@people_app.command("resolve")
def people_resolve(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """重新识别人员 / resolve identities into people now (collection does this at the end of each run)."""
    config = _config(ctx)
    with open_session(ctx) as session:
        report = _resolve(session, resolve_actor(session, state(ctx).user), config)
    if as_json:
        emit_json(report.as_dict())
        return
    typer.echo(report.line())


@people_app.command("export-rules")
def people_export(ctx: typer.Context, file: Path = typer.Argument(..., help="identities.yaml fragment to write")) -> None:
    """导出更正 / write the database's corrections as identities.yaml (people:, distinct:)."""
    from tracker.access import require_role
    from tracker.people.corrections import export_rules

    with open_session(ctx) as session:
        require_role(resolve_actor(session, state(ctx).user), "admin", action="export corrections")
        data = export_rules(session)
    header = ["# 由 mtx people export-rules 导出 / exported by mtx people export-rules",
              "# Merge into config/identities.yaml; the database keeps winning where the two disagree."]
    if data["splits"]:
        header.append("# splits (database only; keep them there): " + ", ".join(data["splits"]))
    if data["domains"]:
        header.append("# domain maps (for organisations.yaml):")
        header += [f"#   {d} -> {o}" for d, o in sorted(data["domains"].items())]
    if data["organisation_merges"]:
        header.append("# organisation merges (database only; or make A an alias of B in organisations.yaml):")
        header += [f"#   {a} -> {b}" for a, b in sorted(data["organisation_merges"].items())]
    text = "\n".join(header) + "\n" + yaml.safe_dump(data["identities"], allow_unicode=True, sort_keys=False)
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"无法写入 / cannot write {file}: {exc.strerror}")
    typer.echo(f"已导出 / wrote {len(data['identities']['people'])} people, "
               f"{len(data['identities']['distinct'])} distinct pairs to {file}")


@orgs_app.command("list")
def orgs_list(ctx: typer.Context, unverified: bool = typer.Option(False, "--unverified",
                                                                  help="only organisations named by a domain"),
              as_json: bool = AS_JSON) -> None:
    """列出组织 / organisations with their contributors and commits (bots excluded)."""
    from tracker.people.queries import list_organisations

    config = _config(ctx)
    domains = {o.name: list(o.domains) for o in config.organisations.organisations}
    with open_session(ctx) as session:
        rows = list_organisations(session, resolve_actor(session, state(ctx).user), unverified, domains)
    if as_json:
        emit_json(rows)
        return
    typer.echo(f"{'organisation':<30} {'verified':<8} {'people':>6} {'commits':>8}  domains")
    for r in rows:
        merged = f"  (并入 / merged into {r['merged_into']})" if r.get("merged_into") else ""
        typer.echo(f"{r['name'][:30]:<30} {'yes' if r['verified'] else 'NO':<8} {r['contributors']:>6} "
                   f"{r['commits']:>8}  {' '.join(r['domains'])}{merged}")


@orgs_app.command("map")
def orgs_map(ctx: typer.Context, domain: str = typer.Argument(..., metavar="DOMAIN"),
             organisation: str = typer.Argument(..., metavar="ORGANISATION"),
             reason: Optional[str] = typer.Option(None, "--reason")) -> None:
    """域名归属 / attribute an e-mail domain (and its subdomains) to an organisation, or to 'individual'."""
    from tracker.people.corrections import map_domain
    from tracker.people.resolve import organisation_names

    _change(ctx, lambda s, actor, c: map_domain(s, actor, domain, organisation, organisation_names(c.organisations),
                                                reason),
            f"已映射 / {domain} -> {organisation}")


@orgs_app.command("merge")
def orgs_merge(ctx: typer.Context, source: str = typer.Argument(..., metavar="A"),
               target: str = typer.Argument(..., metavar="B"),
               reason: Optional[str] = typer.Option(None, "--reason", help="why (kept in the audit log)")) -> None:
    """合并组织 / organisation A counts as B from now on (its domains, affiliations and people)."""
    from tracker.people.corrections import merge_organisations
    from tracker.people.resolve import organisation_names

    _change(ctx, lambda s, actor, c: merge_organisations(s, actor, source, target,
                                                         organisation_names(c.organisations), reason),
            f"已合并组织 / {source} -> {target}")
