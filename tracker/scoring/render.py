"""Show results: a ranked plain-text table for people (JSON: tracker.scoring.live.scores_json).

Plain aligned columns (not a rich table) so the output is stable in tests, pipes and logs;
Chinese names count as two columns wide so the table stays aligned.
"""

from __future__ import annotations

import unicodedata

from tracker.scoring.engine import ScoreResult, percent
from tracker.scoring.model import ScoringModel


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def results_to_text(results: list[ScoreResult], model: ScoringModel, model_hash: str) -> str:
    """A ranked table with the model's identity on top; unavailable rows last, with the reason."""
    scale = "0-100" if model.scale == 100 else "0-1"
    lines = [f"model {model.name} (sha256 {model_hash[:12]}), scale {scale}, missing data: {model.missing.value}"]
    header = ["rank", "name", "score", "coverage", "note"]
    body = []
    for r in results:
        score = f"{r.score:.{model.decimals}f}" if r.score is not None else "-"
        note = r.reason or (f"missing: {', '.join(r.missing)}" if r.missing else "")
        body.append([str(r.rank) if r.rank is not None else "-", r.name, score, percent(r.coverage), note])
    widths = [max(display_width(row[i]) for row in [header, *body]) for i in range(len(header))]
    numeric = {0, 2, 3}
    for row in [header, *body]:
        cells = [_pad(cell, widths[i], right=i in numeric) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
