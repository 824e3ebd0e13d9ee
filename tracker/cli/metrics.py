"""`mtx metrics` (signals from collected data) and `mtx score` (those signals under a scoring model, peers, why)."""
from __future__ import annotations

from typing import List, Optional

import typer

from tracker.cli import app, emit_json, fail, open_session, parse_date, state

FOCUS_HELP = "automotive | smart-terminal | education | other"


def _load(ctx: typer.Context, model: str | None):
    """(the model or None, collection.stale_after_days of communities.yaml). Only that setting is read here, so a
    problem elsewhere in the configuration does not stop a read; `mtx config check` reports everything."""
    from tracker.scoring.loading import load_model
    from tracker.scoring.problems import ModelError

    st = state(ctx)
    stale = _stale_after_days(st.config_dir / "communities.yaml")
    scoring_model = None
    if model:
        try:
            scoring_model = load_model(model, st.config_dir / "models")
        except ModelError as exc:
            fail("; ".join(str(p) for p in exc.problems))
    return scoring_model, stale


def _stale_after_days(path) -> int:
    from tracker.config import ConfigFileError, stale_after_days

    try:
        return stale_after_days(path)
    except ConfigFileError as exc:
        fail(str(exc))


def _compute(ctx, session, *, as_of, communities, scoring_model, by, stale):
    from tracker.access import resolve_actor
    from tracker.metrics.compute import MetricsError, compute_metrics

    actor = resolve_actor(session, state(ctx).user)
    try:
        return compute_metrics(session, actor, as_of=as_of, communities=communities or None, model=scoring_model,
                               by=by, stale_after_days=stale)
    except MetricsError as exc:
        fail(str(exc))


@app.command()
def metrics(
    ctx: typer.Context,
    community: Optional[List[str]] = typer.Option(None, "--community", help="only these communities (slug; repeat)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="北京日期 / Beijing date YYYY-MM-DD (default: the last "
                                        "day the collection covers: today if it ran in the last stale_after_days)"),
    model: Optional[str] = typer.Option(None, "--model", help="only this model's signals, with its windows"),
    by: str = typer.Option("community", "--by", help="community | repository"),
    output: str = typer.Option("table", "--format", help="table | csv (what score-signals reads) | json"),
    rebuild: bool = typer.Option(False, "--rebuild", help="rebuild the activity aggregates from the commits first"),
) -> None:
    """活跃度信号 / signals from collected data, per community (mirrors once) or repository; missing is never 0."""
    if output not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json", param_hint="--format")
    if by not in ("community", "repository"):
        raise typer.BadParameter("use community or repository", param_hint="--by")
    day = parse_date(as_of, "--as-of")
    scoring_model, stale = _load(ctx, model)
    with open_session(ctx) as session:
        if rebuild:
            from tracker.access import require_role, resolve_actor
            from tracker.metrics import activity
            from tracker.progress import progress_reporter

            require_role(resolve_actor(session, state(ctx).user), "admin", action="rebuild the activity aggregates")
            with progress_reporter("活动汇总 / activity aggregates") as report_progress:
                activity.rebuild(session, report_progress)
            typer.echo("活动汇总已重建 / activity aggregates rebuilt", err=True)
        report = _compute(ctx, session, as_of=day, communities=community, scoring_model=scoring_model, by=by,
                          stale=stale)
    from tracker.metrics import output as out

    if output == "json":
        emit_json(out.report_json(report))
    elif output == "csv":
        typer.echo(out.report_csv(report), nl=False)
    else:
        typer.echo(out.report_table(report))


@app.command()
def score(
    ctx: typer.Context,
    model: str = typer.Option("mantianxing", "--model", help="preset or config/models name, or a YAML file"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="北京日期 / Beijing date YYYY-MM-DD (default as for "
                                        "`mtx metrics`)"),
    community: Optional[List[str]] = typer.Option(None, "--community", help="only these communities (slug; repeat)"),
    focus: Optional[str] = typer.Option(None, "--focus", help=f"only this focus field: {FOCUS_HELP}"),
    explain: Optional[str] = typer.Option(None, "--explain", metavar="SLUG",
                                          help="why this community scores what it does, against its peers"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
) -> None:
    """按模型评分与排名（定量部分；专家部分待评审）/ score and rank communities from collected data."""
    from tracker import vocab

    if focus is not None and focus not in vocab.FOCUS_FIELDS:
        raise typer.BadParameter(f"use one of {', '.join(vocab.FOCUS_FIELDS.values)}", param_hint="--focus")
    day = parse_date(as_of, "--as-of")
    scoring_model, stale = _load(ctx, model)
    with open_session(ctx) as session:
        report = _compute(ctx, session, as_of=day, communities=None, scoring_model=scoring_model, by="community",
                          stale=stale)
    from tracker.metrics.registry import signals as registered
    from tracker.scoring import live

    names = {s.key: s.name for s in report.scopes}
    if explain is not None:
        if explain not in names:
            fail(f"没有社区 / no community with slug {explain!r}; `mtx status --communities` lists them")
        scores = live.score_report(scoring_model, report)
        labels = {s.name: s.label_zh for s in scoring_model.signals}
        labels.update({n: d.label_zh for n, d in registered().items() if n not in labels})
        if as_json:
            emit_json(live.explain_json(scores, explain))
        else:
            typer.echo(live.explain_text(scores, explain, names[explain], labels))
        return
    wanted = {s.key for s in report.scopes if (not community or s.key in community) and
              (focus is None or s.focus == focus)}
    if community:
        unknown = sorted(set(community) - set(names))
        if unknown:
            fail(f"没有社区 / no community with slug {', '.join(unknown)}")
    scores = live.score_report(scoring_model, report, only=wanted)
    if as_json:
        emit_json(live.scores_json(scores))
    else:
        typer.echo(live.scores_text(scores, names))
