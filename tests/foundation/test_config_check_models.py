"""`mtx config check` counts the scoring models `--model` accepts: the shipped presets plus config/models files
(a file named like a preset overrides it, and is counted once)."""
from __future__ import annotations

import shutil
from pathlib import Path

from tracker.cli import main

ROOT = Path(__file__).resolve().parents[2]
PRESETS = {"mantianxing", "criticality-legacy", "criticality-pike", "compass-activity"}  # docs/scoring.md


def test_shipped_configuration_counts_the_presets(capsys):
    assert main(["--config", str(ROOT / "config"), "config", "check"]) == 0
    assert f"{len(PRESETS)} scoring models" in capsys.readouterr().out


def test_an_override_counts_once_and_a_new_model_adds_one(tmp_path, capsys):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    preset = (ROOT / "tracker" / "scoring" / "presets" / "mantianxing.yaml").read_text(encoding="utf-8")
    (config / "models" / "mantianxing.yaml").write_text(preset, encoding="utf-8")
    (config / "models" / "my-model.yaml").write_text(preset.replace("name: mantianxing", "name: my-model", 1),
                                                     encoding="utf-8")
    assert main(["--config", str(config), "config", "check"]) == 0
    out = capsys.readouterr().out
    assert f"{len(PRESETS | {'my-model'})} scoring models" in out, out
