"""Ledger commands: `mtx certs template|import|list|balance|revoke` and `mtx awards recompute|approve|pay|export`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tracker.access import resolve_actor
from tracker.cli import app, emit_json, fail, open_session, parse_date, state
from tracker.formatting import yuan
from tracker.vocab import AWARD_STATUSES, CERT_STATUSES

certs_app = typer.Typer(help="开源鸿蒙适配认证证书 / OpenHarmony certificates", no_args_is_help=True)
awards_app = typer.Typer(help="认证奖励 / certificate awards (policy item 10)", no_args_is_help=True)
app.add_typer(certs_app, name="certs")
app.add_typer(awards_app, name="awards")

RULES_OPTION = typer.Option(None, "--rules", help="规则集文件 / rule-set file (default: CONFIG/awards.yaml)")


def _rules(ctx: typer.Context, rules_file: Optional[Path]):
    from tracker.ledger.rules import load_rule_set

    return load_rule_set(rules_file or state(ctx).config_dir / "awards.yaml")


def _actor(ctx: typer.Context, session):
    return resolve_actor(session, state(ctx).user)


def _limits(ctx: typer.Context, rules_file: Optional[Path]):
    """The import limits of the rule-set file (`limits:`), or the defaults when there is no such file."""
    from tracker.ledger.schema import ImportLimits
    from tracker.ledger.rules import load_rule_set

    path = rules_file or state(ctx).config_dir / "awards.yaml"
    return load_rule_set(path).limits if path.is_file() else ImportLimits()


def _checked_output(path: Path, suffixes: tuple[str, ...], what: str) -> Path:
    """The output path, refused (exit 1, nothing written) before any work when it cannot be written."""
    from tracker.spreadsheet import OutputPathError, check_output_path

    try:
        return check_output_path(path, suffixes, what)
    except OutputPathError as exc:
        fail(str(exc))


# --- certs ------------------------------------------------------------------------------------------------------------


@certs_app.command("template")
def certs_template(file: Path = typer.Argument(..., help="FILE.xlsx or FILE.csv")) -> None:
    """生成导入模板 / write the import template (.xlsx with drop-downs and notes, or .csv)."""
    from tracker.ledger.template import TEMPLATE_SUFFIXES, write_template

    _checked_output(file, TEMPLATE_SUFFIXES, "模板文件 / template file")
    try:
        write_template(file)
    except OSError as exc:
        fail(f"模板无法写入 / cannot write the template {file}: {exc.strerror or exc}")
    typer.echo(f"已生成模板 / template written: {file}")


@certs_app.command("import")
def certs_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV (UTF-8 or GBK) or XLSX"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只检查，不写入 / check only, write nothing"),
    report: Optional[Path] = typer.Option(None, "--report", help="把问题写入文件 / write the problems to FILE.xlsx|.csv"),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="XLSX 工作表名 / the sheet to read (default: the active "
                                                               "visible sheet)"),
    recompute: bool = typer.Option(True, "--recompute/--no-recompute",
                                   help="导入后按 awards.yaml 重新核算奖励 / recompute awards after the import"),
    rules_file: Optional[Path] = RULES_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """导入证书 / import certificates: every row checked; any error and nothing is written."""
    from tracker.ledger.importer import import_certificates
    from tracker.ledger.report import REPORT_SUFFIXES, write_report

    if report is not None:  # checked before anything is read or written
        report = _checked_output(report, REPORT_SUFFIXES, "报告文件 / report file")
    limits = _limits(ctx, rules_file)
    rules = _rules(ctx, rules_file) if recompute and not dry_run else None
    recomputed = None
    with open_session(ctx) as session:
        actor = _actor(ctx, session)
        result = import_certificates(session, actor, file, dry_run=dry_run, limits=limits, sheet=sheet)
        if result.written and rules is not None:
            from tracker.ledger.awards import recompute_awards

            recomputed = recompute_awards(session, actor, rules)
        if report is not None:  # before the commit: a report that cannot be written imports nothing
            try:
                write_report(result, report)
            except OSError as exc:
                fail(f"报告无法写入，未导入任何数据 / cannot write the report {report}: {exc.strerror or exc}; "
                     "nothing imported")
    if as_json:
        emit_json(result.as_dict() | ({"recompute": recomputed.as_dict()} if recomputed else {}))
    else:
        if result.sheet:
            typer.echo(f"读取工作表 / sheet read: {result.sheet}")
        for issue in result.issues:
            typer.echo(issue.render(), err=issue.severity == "error")
        typer.echo(result.headline(), err=not result.ok)
        if recomputed is not None:
            typer.echo(f"奖励已重新核算 / awards recomputed: {recomputed.created} new, {recomputed.changed} changed")
        if report is not None:
            typer.echo(f"问题清单 / report: {report}")
    if not result.ok:
        raise typer.Exit(1)


@certs_app.command("export")
def certs_export(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="FILE.xlsx or FILE.csv"),
    enterprise: Optional[str] = typer.Option(None, "--enterprise", help="统一社会信用代码 / USCC"),
) -> None:
    """导出证书（导入格式） / export certificates in the import layout: importing the file again changes nothing."""
    from tracker.enterprises import NotFound
    from tracker.ledger.export import CERTIFICATE_SUFFIXES, export_certificates

    _checked_output(file, CERTIFICATE_SUFFIXES, "导出文件 / export file")
    with open_session(ctx) as session:
        try:
            result = export_certificates(session, _actor(ctx, session), file, enterprise)
        except NotFound as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"无法写入 / cannot write {file}: {exc.strerror or exc}")
    typer.echo(f"已导出 / exported {result['rows']} 张证书 certificates -> {file}")


@certs_app.command("list")
def certs_list(
    ctx: typer.Context,
    enterprise: Optional[str] = typer.Option(None, "--enterprise", help="统一社会信用代码 / USCC"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """列出证书 / list certificates you may see."""
    from tracker.enterprises import NotFound
    from tracker.ledger.certificates import list_certificates

    with open_session(ctx) as session:
        try:
            rows = list_certificates(session, _actor(ctx, session), enterprise)
        except NotFound as exc:
            fail(str(exc))
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        award = "" if r["award_status"] is None else f"  {r['award_amount']:>9,} {AWARD_STATUSES.zh(r['award_status'])}"
        typer.echo(f"{r['uscc']}  {r['cert_no']:<24} {r['pass_date']}  {r['os_version'] or '':<8} "
                   f"{CERT_STATUSES.zh(r['cert_status'])} {r['product_type']} {r['product_name']}  [{r['enterprise']}]"
                   f"{award}")
    typer.echo(f"{len(rows)} 张证书 / certificates")


@certs_app.command("balance")
def certs_balance(
    ctx: typer.Context,
    uscc: str = typer.Argument(..., help="统一社会信用代码 / USCC"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="北京时间日期 / a Beijing date YYYY-MM-DD or 'today' "
                                                              "(per-year ceilings: which year; default today)"),
    rules_file: Optional[Path] = RULES_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """企业奖励余额 / an enterprise's award balance: ceiling, awarded, approved, paid, remaining."""
    from tracker.enterprises import NotFound
    from tracker.ledger.awards import enterprise_balance
    from tracker.ledger.rules import ceiling_text, last_award_text

    rules = _rules(ctx, rules_file)
    with open_session(ctx) as session:
        try:
            b = enterprise_balance(session, _actor(ctx, session), uscc, rules, as_of=parse_date(as_of, "--as-of"))
        except NotFound as exc:
            fail(str(exc))
    if as_json:
        emit_json(b)
        return
    in_yuan = b["ceiling_unit"] == "yuan"

    def limit(value: int) -> str:
        return yuan(value) if in_yuan else f"{value:,} 个产品"

    label = AWARD_STATUSES.term
    typer.echo(f"{b['enterprise']} ({b['uscc']})")
    typer.echo(f"上限 ceiling {limit(b['ceiling'])}（{ceiling_text(rules)}；{last_award_text(rules)}）")
    typer.echo(f"计入上限 awarded {yuan(b['awarded'])}（{label('approved').bilingual} {yuan(b['approved'])}，"
               f"{label('paid').bilingual} {yuan(b['paid'])}）；{label('to_recover').bilingual} {yuan(b['to_recover'])}")
    typer.echo(f"剩余 remaining {limit(b['remaining'])}；再有一个首次认证产品可得 next product "
               f"{yuan(b['next_product_amount'])}")
    for p in b["products"]:
        typer.echo(f"  {p['cert_no']:<24} {p['amount']:>9,} {AWARD_STATUSES.zh(p['award_status'])}"
                   f"  {p['product_name']}  [{p['reason_code']}] {p['reason']}")


@certs_app.command("revoke")
def certs_revoke(
    ctx: typer.Context,
    cert_no: str = typer.Argument(..., help="证书编号 / certificate number"),
    reason: str = typer.Option(..., "--reason", help="撤销原因 / why"),
    rules_file: Optional[Path] = RULES_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """撤销证书 / revoke a certificate: an unpaid award is released, a paid one marked to recover."""
    from tracker.enterprises import NotFound
    from tracker.ledger.awards import AwardError, revoke_certificate

    rules = _rules(ctx, rules_file)
    with open_session(ctx) as session:
        try:
            result = revoke_certificate(session, _actor(ctx, session), cert_no, reason, rules)
        except (NotFound, AwardError) as exc:
            fail(str(exc))
    if as_json:
        emit_json(result)
        return
    award = AWARD_STATUSES.term(result["award_status"]).bilingual if result["award_status"] else "—"
    typer.echo(f"已撤销 / revoked {result['cert_no']}; 奖励 award: {award} {yuan(result['amount'])}"
               + (f"; {result.get('reason')}" if result.get("reason") else ""))


# --- awards -----------------------------------------------------------------------------------------------------------


@awards_app.command("recompute")
def awards_recompute(
    ctx: typer.Context,
    enterprise: Optional[str] = typer.Option(None, "--enterprise", help="只核算一个企业 / one enterprise only"),
    rules_file: Optional[Path] = RULES_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """按规则重新核算奖励 / recompute awards (approved and paid awards stay frozen)."""
    from tracker.enterprises import NotFound
    from tracker.ledger.awards import recompute_awards

    rules = _rules(ctx, rules_file)
    with open_session(ctx) as session:
        try:
            summary = recompute_awards(session, _actor(ctx, session), rules, uscc=enterprise)
        except NotFound as exc:
            fail(str(exc))
    if as_json:
        emit_json(summary.as_dict())
        return
    typer.echo(f"规则 rules {summary.rule_set_version}: {summary.enterprises} 家企业 enterprises, "
               f"{summary.certificates} 张证书 certificates; 新 new {summary.created}, 变更 changed {summary.changed}, "
               f"未变 unchanged {summary.unchanged}, 冻结 frozen {summary.frozen}; 计入上限合计 awarded "
               f"{yuan(summary.awarded_total)}")
    for code, count in sorted(summary.by_reason.items()):
        typer.echo(f"  {code:<28} {count}")


@awards_app.command("approve")
def awards_approve(
    ctx: typer.Context,
    uscc: Optional[str] = typer.Argument(None, help="统一社会信用代码 / USCC"),
    all_: bool = typer.Option(False, "--all", help="所有企业 / every enterprise"),
    cert: Optional[str] = typer.Option(None, "--cert", help="只批准一张证书的奖励 / one certificate's award"),
    amount: Optional[int] = typer.Option(None, "--amount", help="核定金额（仅「最高」规则）/ approved amount, up-to rules"),
    rules_file: Optional[Path] = RULES_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """批准奖励 / approve computed awards; refusals are recorded too. Exit 1 when nothing was approved."""
    from tracker.enterprises import NotFound
    from tracker.ledger.awards import AwardError, approve_awards

    if sum(bool(x) for x in (uscc, all_, cert)) != 1:
        raise typer.BadParameter("give exactly one of USCC, --all or --cert CERT_NO")
    rules = _rules(ctx, rules_file)
    with open_session(ctx) as session:
        try:
            outcomes = approve_awards(session, _actor(ctx, session), rules, uscc=uscc, cert_no=cert,
                                      all_enterprises=all_, amount=amount)
        except (NotFound, AwardError) as exc:
            fail(str(exc))
    approved = [o for o in outcomes if o.approved]
    if as_json:
        emit_json([o.__dict__ for o in outcomes])
    else:
        for o in outcomes:
            typer.echo(f"{'批准' if o.approved else '拒绝'} {o.uscc} {o.cert_no or ''} {yuan(o.amount)}: {o.message}",
                       err=not o.approved)
        typer.echo(f"批准 approved {len(approved)} 项, 合计 {yuan(sum(o.amount for o in approved))}; "
                   f"拒绝 refused {len(outcomes) - len(approved)}")
    if not approved:
        raise typer.Exit(1)


@awards_app.command("pay")
def awards_pay(ctx: typer.Context, cert_no: str = typer.Argument(..., help="证书编号 / certificate number"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """登记支付 / record that an approved award was paid."""
    from tracker.enterprises import NotFound
    from tracker.ledger.awards import AwardError, pay_award

    with open_session(ctx) as session:
        try:
            row = pay_award(session, _actor(ctx, session), cert_no)
        except (NotFound, AwardError) as exc:
            fail(str(exc))
    if as_json:
        emit_json(row)
    else:
        typer.echo(f"{AWARD_STATUSES.zh('paid')} / paid {cert_no}: {yuan(row['amount'])}")


@awards_app.command("export")
def awards_export(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="FILE.xlsx"),
    enterprise: Optional[str] = typer.Option(None, "--enterprise", help="导出一个企业的对账单 / one enterprise's "
                                                                            "statement"),
    include_computed: bool = typer.Option(False, "--include-computed", help="公示名单也列出未批准的 / also list "
                                                                              "computed (not yet approved) awards"),
    rules_file: Optional[Path] = RULES_OPTION,
) -> None:
    """导出公示名单或企业对账单 / export the 公示 list (approved and paid) or an enterprise's statement."""
    from tracker.enterprises import NotFound
    from tracker.ledger.export import EXPORT_SUFFIXES, PUBLISHED, export_public_list, export_statement

    _checked_output(file, EXPORT_SUFFIXES, "导出文件 / export file")
    rules = _rules(ctx, rules_file)
    with open_session(ctx) as session:
        actor = _actor(ctx, session)
        try:
            if enterprise is None and actor.role == "enterprise":
                from tracker.models import Enterprise

                enterprise = session.get(Enterprise, actor.enterprise_id).uscc
            if enterprise is not None:
                result = export_statement(session, actor, rules, enterprise, file)
                typer.echo(f"对账单 / statement for {result['uscc']}: {result['rows']} 张证书 -> {file}")
            else:
                statuses = PUBLISHED + (("computed",) if include_computed else ())
                result = export_public_list(session, actor, rules, file, statuses)
                typer.echo(f"公示名单 / public list: {result['rows']} 项, {result['enterprises']} 家企业, "
                           f"合计 {yuan(result['total'])} -> {file}")
        except NotFound as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"无法写入 / cannot write {file}: {exc.strerror or exc}")
