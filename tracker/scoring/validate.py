"""``validate_model_file``: every problem in a model file at once, for ``mtx config check``.

Loading stops at the first file that does not validate; checking collects everything an
evaluator should fix, including signals that no collector computes (a typo such as
``contributers_count`` would otherwise silently score as "missing" for every project).
"""

from __future__ import annotations

import difflib
from pathlib import Path

from tracker.scoring.loading import parse_model, read_model_data
from tracker.scoring.model import ScoringModel
from tracker.scoring.problems import ModelError, Problem
from tracker.scoring.signals import EXPERT_PREFIX, KNOWN_SIGNALS, is_known_signal


def unknown_signal_problems(path: Path, model: ScoringModel) -> list[Problem]:
    problems = []
    for group in model.groups:
        for signal in group.signals:
            if is_known_signal(signal.name):
                continue
            close = difflib.get_close_matches(signal.name, list(KNOWN_SIGNALS), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(Problem(
                str(path), f"groups.{group.name}.signals.{signal.name}",
                f"unknown signal '{signal.name}': no collector computes it",
                f"{hint}use a known signal (tracker.scoring.known_signals()) or prefix expert ratings with '{EXPERT_PREFIX}'",
            ))
    return problems


def window_problems(path: Path, model: ScoringModel) -> list[Problem]:
    """``window_days`` where it cannot mean anything: a signal that is a state as of the date, an expert rating, or
    a rate over 'all' (a rate needs a length)."""
    problems = []
    for group in model.groups:
        for signal in group.signals:
            if signal.window_days is None:
                continue
            key = f"groups.{group.name}.signals.{signal.name}.window_days"
            known = KNOWN_SIGNALS.get(signal.name)
            if known is None or known.window is None:
                what = "an expert rating" if signal.name.startswith(EXPERT_PREFIX) else "a state as of the date"
                problems.append(Problem(str(path), key, f"window_days has no effect on '{signal.name}': it is {what}",
                                        "remove window_days from this signal", severity="warning"))
            elif signal.window_days == "all" and signal.name == "commit_frequency":
                problems.append(Problem(str(path), key, "commit_frequency is commits per week: over 'all' it has no "
                                        "length, so it is always missing", "give a number of days, e.g. 365"))
    return problems


def validate_model_file(path: str | Path) -> list[Problem]:
    """All problems in one model file; an empty list means the file is good."""
    path = Path(path)
    try:
        model = parse_model(path, read_model_data(path))
    except ModelError as exc:
        return list(exc.problems)
    problems = unknown_signal_problems(path, model) + window_problems(path, model)
    if path.stem != model.name:
        problems.append(Problem(
            str(path), "name", f"model name '{model.name}' differs from the file name '{path.stem}'",
            f"rename the file to {model.name}{path.suffix} or set name: {path.stem}", severity="warning",
        ))
    return problems
