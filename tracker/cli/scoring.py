"""`mtx score-signals`: score any table of raw signals with a preset, a model from config/models, or a YAML file."""
from __future__ import annotations

from pathlib import Path

import typer

from tracker.cli import app, state


@app.command("score-signals")
def score_signals(
    ctx: typer.Context,
    csv_file: Path = typer.Argument(..., help="CSV: a `name` column and one column per signal; empty cells are missing"),
    model: str = typer.Option("mantianxing", "--model", help="preset or config/models name, or a YAML file"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
) -> None:
    """按评分模型为信号表打分 / score a table of raw signals with a scoring model."""
    from tracker.scoring.cli import score_signals_command

    code = score_signals_command(model, csv_file, as_json, state(ctx).config_dir / "models")
    if code:
        raise typer.Exit(code)
