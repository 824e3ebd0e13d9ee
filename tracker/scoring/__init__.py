"""Scoring models: configurable, explainable, reproducible scores from raw signals.

A model (``config/models/*.yaml``) is data; ``load_model`` validates it, ``score_signals`` scores
one row, ``score_table`` ranks many. See docs/scoring.md for the rules and the presets.
"""

from tracker.scoring.engine import ScoreResult, normalisation_bounds, rank_results, score_signals, score_table
from tracker.scoring.identity import canonical_content, model_hash
from tracker.scoring.loading import load_model, load_model_file, models_dir_names
from tracker.scoring.model import Direction, MissingPolicy, Normalisation, ScoringModel, Signal, SignalGroup, Transform
from tracker.scoring.problems import ModelError, Problem
from tracker.scoring.signals import is_known_signal, known_signals
from tracker.scoring.validate import validate_model_file

__all__ = [
    "Direction", "MissingPolicy", "ModelError", "Normalisation", "Problem", "ScoreResult", "ScoringModel",
    "Signal", "SignalGroup", "Transform", "canonical_content", "is_known_signal", "known_signals",
    "load_model", "load_model_file", "model_hash", "models_dir_names", "normalisation_bounds",
    "rank_results", "score_signals", "score_table", "validate_model_file",
]
