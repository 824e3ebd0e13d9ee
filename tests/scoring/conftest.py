"""Shared fixtures: the shipped presets and the published criticality_score rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tracker.scoring import ScoringModel, load_model

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / "tracker" / "scoring" / "presets"  # the presets ship with the package (issue 14)
DATA_DIR = Path(__file__).resolve().parent / "data"
PRESETS = ["criticality-legacy", "criticality-pike", "compass-activity", "mantianxing"]


def load_preset(name: str) -> ScoringModel:
    return load_model(name, CONFIG_DIR)


def published_rows(filename: str) -> list[dict[str, str]]:
    with (DATA_DIR / filename).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def legacy() -> ScoringModel:
    return load_preset("criticality-legacy")


@pytest.fixture(scope="session")
def pike() -> ScoringModel:
    return load_preset("criticality-pike")


@pytest.fixture(scope="session")
def compass() -> ScoringModel:
    return load_preset("compass-activity")


@pytest.fixture(scope="session")
def mantianxing() -> ScoringModel:
    return load_preset("mantianxing")
