"""A model's identity: its name plus the sha256 of its canonical content.

Results always carry both, so a score can be traced to the exact model that produced it. The
hash is taken over the *validated* model rendered as sorted, compact JSON: re-indenting the
YAML or adding comments does not change it; changing any value (a weight, a threshold, a label)
does. Labels are included on purpose: what evaluators were shown is part of the model.
"""

from __future__ import annotations

import hashlib
import json

from tracker.scoring.model import ScoringModel


def canonical_content(model: ScoringModel) -> str:
    """The model as canonical JSON text (sorted keys, no whitespace, UTF-8 kept)."""
    return json.dumps(
        model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def model_hash(model: ScoringModel) -> str:
    """sha256 hex digest of :func:`canonical_content`."""
    return hashlib.sha256(canonical_content(model).encode("utf-8")).hexdigest()
