"""``mtx score-signals``: score a CSV of raw signals under a model (wired into Typer by tracker.cli).

``--json`` prints the same shape as `mtx score --json` (tracker.scoring.live.scores_json, ``"part": "all"``: the
table is scored whole, expert columns included). Returns an exit code instead of exiting, so the Typer command stays a one-line wrapper and the
behaviour is tested without a subprocess: 0 scored, 1 a problem the user can fix (unknown model,
bad model file, bad CSV), with the message on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tracker.scoring.engine import score_table
from tracker.scoring.identity import model_hash
from tracker.scoring.loading import load_model
from tracker.scoring.problems import ModelError
from tracker.scoring.render import results_to_text
from tracker.scoring.signals_csv import SignalsCsvError, read_signals_csv


def score_signals_command(model: str, csv_path: Path, as_json: bool, config_dir: Path) -> int:
    """Score ``csv_path`` with the model named ``model`` (or at path ``model``); print the ranking."""
    try:
        scoring_model = load_model(model, Path(config_dir))
    except ModelError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    try:
        table = read_signals_csv(Path(csv_path), scoring_model)
    except SignalsCsvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for warning in table.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if as_json:
        import json

        from tracker.scoring.live import Row, score_rows, scores_json

        rows = [Row(name, None, values, {}) for name, values in table.rows]
        print(json.dumps(scores_json(score_rows(scoring_model, rows, None, part_only=False)), ensure_ascii=False,
                         indent=2))
        return 0
    print(results_to_text(score_table(scoring_model, table.rows), scoring_model, model_hash(scoring_model)))
    return 0
