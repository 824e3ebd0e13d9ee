"""`mtx rounds ...`: evaluation rounds of item 20, from draft to scored (docs/rounds.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tracker.cli import app, emit_json, fail, open_session, parse_date, state

rounds_app = typer.Typer(help="评审轮次 / evaluation rounds (item 20): create, apply, check, freeze, experts, scores",
                         no_args_is_help=True)
experts_app = typer.Typer(help="评审专家组 / a round's expert panel", no_args_is_help=True)
app.add_typer(rounds_app, name="rounds")
rounds_app.add_typer(experts_app, name="experts")

ROUND = typer.Argument(..., help="轮次编号或 YEAR/NAME / round id (mtx rounds list) or YEAR/NAME")


class _Step:
    """A session, the actor and the round, with RoundError turned into a message and exit 1."""

    def __init__(self, ctx: typer.Context, ref: str | None = None) -> None:
        self.ctx, self.ref = ctx, ref

    def __enter__(self):
        from tracker.access import resolve_actor
        from tracker.rounds.lifecycle import get_round

        self._scope = open_session(self.ctx)
        self.session = self._scope.__enter__()
        try:
            self.actor = resolve_actor(self.session, state(self.ctx).user)
            self.round = get_round(self.session, self.ref) if self.ref is not None else None
        except Exception as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(self, kind, exc, tb):
        from tracker.rounds.lifecycle import RoundError

        handled = self._scope.__exit__(kind, exc, tb)
        if isinstance(exc, RoundError):
            fail(str(exc))
        return handled


def _done(message: str) -> None:
    typer.echo(message)


@rounds_app.command("create")
def rounds_create(
    ctx: typer.Context,
    year: int = typer.Option(..., "--year", help="年度 / year"),
    name: str = typer.Option(..., "--name", help="名称 / name, e.g. 2026年度特色开源社区"),
    model: str = typer.Option("mantianxing", "--model", help="评分模型 / scoring model (name or YAML file)"),
    cutoff: str = typer.Option(..., "--cutoff", help="数据截止日 / data cutoff, a Beijing date YYYY-MM-DD"),
    budget: int = typer.Option(..., "--budget", help="预算（元）/ budget in yuan"),
    max_award: int = typer.Option(..., "--max-award", help="单个社区上限（元）/ most one community may get, yuan"),
    aggregation: str = typer.Option("mean", "--aggregation", help="mean | trimmed | median"),
    min_experts: int = typer.Option(3, "--min-experts", help="每个申报至少几位专家完整评分 / experts needed per candidate"),
    publicity_days: int = typer.Option(7, "--publicity-days", help="公示天数 / days of 公示"),
) -> None:
    """新建评审轮次（草稿）/ create a round (draft); prints its id."""
    from tracker.rounds.lifecycle import create_round
    from tracker.scoring.loading import load_model
    from tracker.scoring.problems import ModelError

    day = parse_date(cutoff, "--cutoff")
    try:
        scoring_model = load_model(model, state(ctx).config_dir / "models")
    except ModelError as exc:
        fail("; ".join(str(p) for p in exc.problems))
    with _Step(ctx) as step:
        round_ = create_round(step.session, step.actor, year=year, name=name, model=scoring_model, cutoff=day,
                              budget=budget, max_award=max_award, aggregation=aggregation, min_experts=min_experts,
                              publicity_days=publicity_days)
        rid = round_.id
    _done(f"已创建评审轮次 / round created: {rid}")


@rounds_app.command("list")
def rounds_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON output")) -> None:
    """评审轮次列表 / the rounds (an evaluator sees the rounds they are on)."""
    from tracker import vocab
    from tracker.rounds.summary import list_rounds

    with _Step(ctx) as step:
        rows = list_rounds(step.session, step.actor)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['id']:>4}  {r['year']}  {r['name']}  {vocab.ROUND_STATUSES.zh(r['status'])} {r['status']}  "
                   f"模型 {r['model']['name']}  截止 {r['cutoff']}")
    if not rows:
        typer.echo("尚无评审轮次 / no rounds: mtx rounds create ...")


@rounds_app.command("show")
def rounds_show(ctx: typer.Context, round_ref: str = ROUND,
                as_json: bool = typer.Option(False, "--json", help="JSON output")) -> None:
    """一个轮次的申报、形式审查、专家、回避与评分 / one round: candidates, checks, experts, conflicts, scores."""
    from tracker.rounds.summary import show_round, show_text

    with _Step(ctx, round_ref) as step:
        data = show_round(step.session, step.actor, step.round)
    emit_json(data) if as_json else typer.echo(show_text(data))


@rounds_app.command("open")
def rounds_open(ctx: typer.Context, round_ref: str = ROUND) -> None:
    """开始申报 / open the round for applications (draft -> open)."""
    from tracker.rounds.lifecycle import open_round

    with _Step(ctx, round_ref) as step:
        open_round(step.session, step.actor, step.round)
    _done("轮次已开放申报 / round open")


@rounds_app.command("apply")
def rounds_apply(
    ctx: typer.Context, round_ref: str = ROUND,
    community: str = typer.Argument(..., help="社区代号 / community slug"),
    applicant: str = typer.Option(..., "--applicant", help="申报单位 / applying organisation"),
    enterprise: Optional[str] = typer.Option(None, "--enterprise", help="申报单位的统一社会信用代码 / its USCC"),
) -> None:
    """登记申报（草稿或申报中）/ record a community's application (a community once per round)."""
    from tracker.rounds.lifecycle import apply

    with _Step(ctx, round_ref) as step:
        apply(step.session, step.actor, step.round, community, applicant, enterprise)
    _done(f"已登记申报 / application recorded: {community}")


@rounds_app.command("check")
def rounds_check(
    ctx: typer.Context, round_ref: str = ROUND,
    community: str = typer.Argument(..., help="社区代号 / community slug"),
    passed: Optional[bool] = typer.Option(None, "--pass/--fail", help="形式审查结论 / the verdict"),
    reason: Optional[str] = typer.Option(None, "--reason", help="原因（不通过时必填）/ why (required with --fail)"),
) -> None:
    """形式审查 / the formal check of one candidate against config/rounds.yaml; prints every item."""
    from tracker.rounds.checklist import RoundsConfigError, load_rounds_config
    from tracker.rounds.lifecycle import check

    if passed is None:
        raise typer.BadParameter("give --pass or --fail", param_hint="--pass/--fail")
    try:
        checklist = load_rounds_config(state(ctx).config_dir).checklist
    except RoundsConfigError as exc:
        fail(str(exc))
    with _Step(ctx, round_ref) as step:
        candidate, items = check(step.session, step.actor, step.round, community, passed, reason, checklist)
        verdict = candidate.check_status
    for item in items:
        mark = {True: "✓", False: "✗", None: "·"}[item.passed]
        typer.echo(f"  {mark} {item.label_zh}: {item.detail}")
    _done(f"形式审查 / formal check {community}: {'通过 passed' if verdict == 'passed' else '不通过 failed'}")


@rounds_app.command("close-check")
def rounds_close_check(ctx: typer.Context, round_ref: str = ROUND) -> None:
    """结束形式审查 / close the formal check (open -> checked); refused while a candidate has no verdict."""
    from tracker.rounds.lifecycle import close_check

    with _Step(ctx, round_ref) as step:
        close_check(step.session, step.actor, step.round)
    _done("形式审查已结束 / formal check closed")


@rounds_app.command("freeze")
def rounds_freeze(ctx: typer.Context, round_ref: str = ROUND) -> None:
    """冻结数据 / store every passed candidate's signals as of the cutoff (checked -> frozen)."""
    from tracker.cli.metrics import _stale_after_days
    from tracker.rounds.lifecycle import freeze

    from tracker.rounds.checklist import RoundsConfigError, load_rounds_config

    stale = _stale_after_days(state(ctx).config_dir / "communities.yaml")
    try:
        integrity = load_rounds_config(state(ctx).config_dir).integrity
    except RoundsConfigError as exc:
        fail(str(exc))
    with _Step(ctx, round_ref) as step:
        written = freeze(step.session, step.actor, step.round, stale_after_days=stale, integrity=integrity)
        cutoff = step.round.data_cutoff
    _done(f"数据已冻结 / data frozen: {written} signal values as of {cutoff}")


@experts_app.command("add")
def experts_add(ctx: typer.Context, round_ref: str = ROUND,
                user: str = typer.Argument(..., help="评审专家用户名 / evaluator user name")) -> None:
    """把评审专家加入专家组 / put an evaluator on the round's panel."""
    from tracker.rounds.lifecycle import add_expert

    with _Step(ctx, round_ref) as step:
        add_expert(step.session, step.actor, step.round, user)
    _done(f"专家已加入 / expert added: {user}")


@experts_app.command("remove")
def experts_remove(ctx: typer.Context, round_ref: str = ROUND,
                   user: str = typer.Argument(..., help="评审专家用户名 / evaluator user name")) -> None:
    """移出专家组（其评分作废，记入审计）/ take an expert off the panel (their scores are discarded, audited)."""
    from tracker.rounds.lifecycle import remove_expert

    with _Step(ctx, round_ref) as step:
        discarded = remove_expert(step.session, step.actor, step.round, user)
    _done(f"专家已移出 / expert removed: {user} ({discarded} scores discarded)")


@rounds_app.command("conflict")
def rounds_conflict(
    ctx: typer.Context, round_ref: str = ROUND,
    user: str = typer.Argument(..., help="评审专家用户名 / evaluator user name"),
    community: str = typer.Argument(..., help="社区代号 / community slug"),
    reason: str = typer.Option(..., "--reason", help="回避原因 / why, e.g. 近三年曾为申报单位提供咨询"),
) -> None:
    """登记回避 / record that an expert withdraws from a candidate (scores they gave it are discarded)."""
    from tracker.rounds.lifecycle import declare_conflict

    with _Step(ctx, round_ref) as step:
        discarded = declare_conflict(step.session, step.actor, step.round, user, community, reason)
    _done(f"回避已登记 / conflict recorded: {user} - {community}"
          + (f"; 已作废其评分 {discarded} 项 / {discarded} scores discarded" if discarded else ""))


@rounds_app.command("scoresheet")
def rounds_scoresheet(
    ctx: typer.Context, round_ref: str = ROUND,
    user: str = typer.Argument(..., help="评审专家用户名 / evaluator user name"),
    file: Path = typer.Argument(..., help="评分表.xlsx"),
) -> None:
    """导出专家评分表 / write one expert's score sheet (their candidates, the expert_* columns, the frozen data)."""
    from tracker.rounds.scoresheet import write_scoresheet
    from tracker.spreadsheet import OutputPathError

    with _Step(ctx, round_ref) as step:
        try:
            path = write_scoresheet(step.session, step.actor, step.round, user, file)
        except OutputPathError as exc:
            fail(str(exc))
    _done(f"评分表已写入 / score sheet written: {path}")


@rounds_app.command("import-scores")
def rounds_import_scores(
    ctx: typer.Context, round_ref: str = ROUND,
    user: str = typer.Argument(..., help="评审专家用户名 / evaluator user name"),
    file: Path = typer.Argument(..., help="评分表.xlsx (or .csv with the same columns)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只检查，不写入 / check only, write nothing"),
    report: Optional[Path] = typer.Option(None, "--report", help="把问题写入文件 / write the problems to FILE.xlsx|.csv"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
) -> None:
    """导入评分表（整体替换该专家本轮评分）/ read a score sheet back: replaces that expert's scores in the round."""
    from tracker.ledger.report import REPORT_SUFFIXES, write_report
    from tracker.rounds.scoresheet import import_scores
    from tracker.spreadsheet import OutputPathError, check_output_path

    if report is not None:
        try:
            report = check_output_path(report, REPORT_SUFFIXES, "报告文件 / report file")
        except OutputPathError as exc:
            fail(str(exc))
    from tracker.cli.ledger import _limits

    limits = _limits(ctx, None)  # the same file limits as certificate imports (awards.yaml `limits:`)
    with _Step(ctx, round_ref) as step:
        result = import_scores(step.session, step.actor, step.round, user, file, dry_run=dry_run, limits=limits)
        if result.errors:
            step.session.rollback()
        if report is not None:
            write_report(result, report)
    if as_json:
        emit_json(result.summary() | {"issues": [i.as_dict() for i in result.issues]})
    else:
        typer.echo(f"读取工作表 / sheet read: {result.sheet}")
        for issue in result.issues:
            typer.echo(issue.render(), err=True)
        typer.echo(result.headline(), err=not result.ok)
        if report is not None:
            typer.echo(f"问题清单 / report: {report}")
    if not result.ok:
        raise typer.Exit(1)


@rounds_app.command("close-scoring")
def rounds_close_scoring(
    ctx: typer.Context, round_ref: str = ROUND,
    accept_incomplete: bool = typer.Option(False, "--accept-incomplete",
                                           help="专家不足的申报记为 too_few_experts / close anyway"),
) -> None:
    """结束评分 / close scoring (frozen -> scored); refused while a candidate has too few complete scores."""
    from tracker.rounds.lifecycle import close_scoring

    with _Step(ctx, round_ref) as step:
        short = close_scoring(step.session, step.actor, step.round, accept_incomplete)
    _done("评分已结束 / scoring closed" + (f"; 专家不足 too few experts: {', '.join(c.slug for c in short)}"
                                          if short else ""))


# --- part 2: results, allocation, decision, 公示, objections, exports ------------------------------------------------

objection_app = typer.Typer(help="公示期异议 / objections during 公示", no_args_is_help=True)
rounds_app.add_typer(objection_app, name="objection")


@rounds_app.command("results")
def rounds_results(ctx: typer.Context, round_ref: str = ROUND,
                   as_json: bool = typer.Option(False, "--json", help="JSON output")) -> None:
    """评审结果（冻结后为暂定，评分结束后为正式）/ results: provisional from frozen, final from scored."""
    from tracker import vocab
    from tracker.formatting import yuan
    from tracker.rounds.results import compute_results, results_json

    with _Step(ctx, round_ref) as step:
        from tracker.access import require_role

        require_role(step.actor, "admin", action="see a round's results")
        results = compute_results(step.session, step.round)
        data = results_json(step.round, results)
    if as_json:
        emit_json(data)
        return
    head = data["round"]
    typer.echo(f"轮次 {head['id']} {head['year']}/{head['name']} — {'暂定结果 provisional' if head['provisional'] else '结果 results'}"
               f"（汇总 {vocab.AGGREGATIONS.zh(head['aggregation'])}）")
    for r in data["results"]:
        flagged = [k for k, v in r["expert"].items() if v["flagged"]]
        typer.echo(f"  {r['rank'] or '-':>3}  {r['community']:<24} {vocab.SCORE_STATUSES.zh(r['status'])}  "
                   f"总分 {'-' if r['total'] is None else r['total']}  定量 {r['quantitative']}  专家 "
                   f"{r['expert_points']}  覆盖 {r['coverage']:.0%}"
                   + (f"  金额 {yuan(r['amount'])}" if r["amount"] else "")
                   + (f"  分歧大 {', '.join(flagged)}" if flagged else "")
                   + (f"  提示 {len(r['flags'])}" if r["flags"] else "")
                   + (f"  （{r['reason']}）" if r["reason"] and r["status"] != "ranked" else ""))


@rounds_app.command("allocate")
def rounds_allocate(
    ctx: typer.Context, round_ref: str = ROUND,
    rule: str = typer.Option(..., "--rule", help="tiers | proportional | equal"),
    tiers: Optional[str] = typer.Option(None, "--tiers", help="按名次的金额 / amounts by rank, e.g. 2000000,1000000,500000"),
    top: Optional[int] = typer.Option(None, "--top", help="前 N 名 / the top N ranked (proportional, equal)"),
) -> None:
    """按规则在预算内分配资金（重新运行则替换）/ allocate the budget to ranked candidates; re-running replaces it."""
    from tracker.formatting import yuan
    from tracker.rounds.decision import allocate

    amounts = None
    if tiers:
        try:
            amounts = [int(x.strip().replace("_", "")) for x in tiers.split(",") if x.strip()]
        except ValueError:
            raise typer.BadParameter("whole yuan amounts separated by commas, e.g. 2000000,1000000", param_hint="--tiers")
    with _Step(ctx, round_ref) as step:
        allocation = allocate(step.session, step.actor, step.round, rule, tiers=amounts, top=top)
    for slug, amount in allocation.amounts.items():
        typer.echo(f"  {slug:<24} {yuan(amount)}")
    for note in allocation.notes:
        typer.echo(f"  · {note}")
    _done(f"已分配 / allocated {yuan(allocation.allocated)}，预算剩余 / budget left {yuan(allocation.rest)}")


@rounds_app.command("decide")
def rounds_decide(
    ctx: typer.Context, round_ref: str = ROUND,
    minutes: Path = typer.Option(..., "--minutes", help="集体研究会议纪要文件 / the committee's minutes (kept with the round)"),
    amount: Optional[list[str]] = typer.Option(None, "--amount", help="COMMUNITY=YUAN: an amount the committee changes"),
    reason: Optional[list[str]] = typer.Option(None, "--reason", help="one per --amount, in the same order"),
) -> None:
    """记录集体研究决定 / record the committee's decision (scored -> decided); changed amounts need a reason."""
    from tracker.formatting import yuan
    from tracker.rounds.decision import decide

    changes, reasons = {}, {}
    for n, item in enumerate(amount or []):
        slug, _, value = item.partition("=")
        try:
            changes[slug.strip()] = int(value.strip())
        except ValueError:
            raise typer.BadParameter(f"{item!r}: write COMMUNITY=YUAN, e.g. bayu-edu=1500000", param_hint="--amount")
        if reason and n < len(reason):
            reasons[slug.strip()] = reason[n]
    with _Step(ctx, round_ref) as step:
        decided = decide(step.session, step.actor, step.round, minutes, changes, reasons)
    for slug, value in decided.items():
        typer.echo(f"  {slug:<24} {yuan(value)}")
    _done(f"集体研究决定已记录 / decision recorded: {yuan(sum(decided.values()))}")


@rounds_app.command("publicise")
def rounds_publicise(ctx: typer.Context, round_ref: str = ROUND,
                     start: str = typer.Option(..., "--start", help="公示开始日（北京日期）/ first day, YYYY-MM-DD")) -> None:
    """开始公示 / start 公示 for the round's publicity days (decided -> publicised)."""
    from tracker.rounds.decision import publicise

    day = parse_date(start, "--start")
    with _Step(ctx, round_ref) as step:
        end = publicise(step.session, step.actor, step.round, day)
    _done(f"公示 / publicised {day} – {end}")


@objection_app.command("add")
def objection_add(
    ctx: typer.Context, round_ref: str = ROUND,
    objector: str = typer.Option(..., "--from", help="异议人（实名）/ the objector's real name"),
    unit: str = typer.Option(..., "--unit", help="单位 / their unit"),
    contact: str = typer.Option(..., "--contact", help="联系方式 / phone or address"),
    evidence: Path = typer.Option(..., "--evidence", help="证明材料文件 / the evidence file"),
    text: str = typer.Option(..., "--text", help="异议内容 / the objection"),
) -> None:
    """登记公示期异议（不受理匿名）/ record a written objection during 公示 (never anonymous)."""
    from tracker.rounds.decision import add_objection

    with _Step(ctx, round_ref) as step:
        row = add_objection(step.session, step.actor, step.round, objector=objector, unit=unit, contact=contact,
                            evidence=evidence, text=text)
        number = row.id
    _done(f"异议已登记 / objection recorded: {number}")


@objection_app.command("resolve")
def objection_resolve(
    ctx: typer.Context, round_ref: str = ROUND, objection: int = typer.Argument(..., help="异议编号 / objection id"),
    upheld: Optional[bool] = typer.Option(None, "--upheld/--rejected", help="异议成立或不成立 / the outcome"),
    reason: str = typer.Option(..., "--reason", help="理由 / why"),
) -> None:
    """处理异议；成立则轮次回到"已集体研究" / resolve an objection; upheld returns the round to decided."""
    from tracker.rounds.decision import resolve_objection

    if upheld is None:
        raise typer.BadParameter("give --upheld or --rejected", param_hint="--upheld/--rejected")
    with _Step(ctx, round_ref) as step:
        row = resolve_objection(step.session, step.actor, step.round, objection, upheld, reason)
        status = step.round.status
    _done(f"异议 {row.id}: {row.status}; 轮次 / round {status}")


@rounds_app.command("finalise")
def rounds_finalise(ctx: typer.Context, round_ref: str = ROUND) -> None:
    """定稿 / finalise (publicised -> final): only after 公示 has ended and every objection is resolved."""
    from tracker.rounds.decision import finalise

    with _Step(ctx, round_ref) as step:
        finalise(step.session, step.actor, step.round)
    _done("轮次已定稿 / round final")


@rounds_app.command("export")
def rounds_export(ctx: typer.Context, round_ref: str = ROUND,
                  file: Path = typer.Argument(..., help="公示名单.xlsx or .csv")) -> None:
    """导出公示名单 / the public list: rank, community, applicant, total, amount."""
    from tracker.rounds.export import write_public_list
    from tracker.spreadsheet import OutputPathError

    with _Step(ctx, round_ref) as step:
        try:
            path = write_public_list(step.session, step.actor, step.round, file)
        except OutputPathError as exc:
            fail(str(exc))
    _done(f"公示名单已写入 / public list written: {path}")


@rounds_app.command("workbook")
def rounds_workbook(ctx: typer.Context, round_ref: str = ROUND,
                    file: Path = typer.Argument(..., help="评审记录.xlsx")) -> None:
    """导出评审记录（管理员）/ the committee's workbook: checks, experts, conflicts, ratings, results, decision, objections."""
    from tracker.rounds.export import write_workbook
    from tracker.spreadsheet import OutputPathError

    with _Step(ctx, round_ref) as step:
        try:
            path = write_workbook(step.session, step.actor, step.round, file)
        except OutputPathError as exc:
            fail(str(exc))
    _done(f"评审记录已写入 / workbook written: {path}")
