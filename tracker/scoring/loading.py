"""Find and load a scoring model by name (the models directory, then the presets) or by file path.

A reference ending in ``.yaml``/``.yml`` or containing a path separator is a file; anything
else is a model name looked up as ``<config_dir>/<name>.yaml``, then among the presets shipped
with the package (``tracker/scoring/presets``), so ``--model criticality-legacy`` works from any
directory and a file in ``config/models/`` adds a model or overrides a preset. Validation errors are turned
into ``Problem``s whose key paths use signal and group *names*, not list indices, so the
message points at the line an evaluator would look for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tracker.scoring.model import ScoringModel
from tracker.scoring.problems import ModelError, Problem
from tracker.yamlsource import YamlTooLarge, load_yaml

MODEL_SUFFIXES = (".yaml", ".yml")
PRESETS_DIR = Path(__file__).resolve().parent / "presets"  # package data: found wherever mtx runs

_FIXES = {
    "missing": "add this key (see docs/scoring.md for the model format)",
    "extra_forbidden": "remove this key or correct its spelling",
    "enum": "use one of the values listed in the message",
    "literal_error": "use one of the values listed in the message",
    "string_pattern_mismatch": "use lower-case letters, digits and underscores, starting with a letter",
    "greater_than": "use a larger number",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
    "too_short": "add at least one entry",
    "string_too_short": "write a non-empty text",
}


def models_dir_names(config_dir: Path) -> list[str]:
    """Names of the models available in ``config_dir`` (file stems), sorted."""
    if not config_dir.is_dir():
        return []
    return sorted(p.stem for p in config_dir.iterdir() if p.suffix in MODEL_SUFFIXES)


def available_model_names(config_dir: Path) -> list[str]:
    """Every model name ``--model`` accepts: the presets and those in ``config_dir``, sorted."""
    return sorted(set(models_dir_names(PRESETS_DIR)) | set(models_dir_names(config_dir)))


def resolve_model_path(reference: str, config_dir: Path) -> Path:
    """Turn ``NAME`` or ``FILE.yaml`` into an existing path, or raise ``ModelError``."""
    looks_like_file = reference.endswith(MODEL_SUFFIXES) or "/" in reference or "\\" in reference
    if looks_like_file:
        path = Path(reference)
        if not path.is_file():
            raise ModelError.single(path, "", "model file not found", "check the path, or pass a model name")
        return path
    for directory in (config_dir, PRESETS_DIR):  # the configuration's own file overrides a preset of that name
        for suffix in MODEL_SUFFIXES:
            path = directory / f"{reference}{suffix}"
            if path.is_file():
                return path
    available = ", ".join(available_model_names(config_dir)) or "none"
    raise ModelError.single(
        config_dir, "", f"unknown model '{reference}'",
        f"use one of: {available}; or pass a path to a model .yaml file",
    )


def key_path(data: Any, location: tuple[Any, ...]) -> str:
    """``('groups', 0, 'signals', 2, 'weight')`` -> ``groups.activity.signals.org_count.weight``."""
    parts: list[str] = []
    node = data
    for step in location:
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            item = node[step]
            label = item.get("name") if isinstance(item, dict) else None
            parts.append(str(label) if label else f"[{step}]")
            node = item
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def problems_from_validation(path: Path, data: Any, error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        location = tuple(step for step in item["loc"] if not (isinstance(step, str) and "[" in step))
        message = item["msg"].removeprefix("Value error, ")
        problems.append(Problem(str(path), key_path(data, location), message, _FIXES.get(item["type"], "see docs/scoring.md")))
    return problems


def read_model_data(path: Path) -> Any:
    """Parse the YAML (alias bombs refused), raising ``ModelError`` with the line of a syntax error."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))[0]
    except YamlTooLarge as exc:
        raise ModelError.single(path, "", f"file refused: {exc}", "write the entries out instead of anchors and "
                                "aliases that expand into each other") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise ModelError.single(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}", "fix the YAML syntax there") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError.single(path, "", f"cannot read the file: {exc}", "check the file exists and is UTF-8") from exc


def parse_model(path: Path, data: Any) -> ScoringModel:
    if not isinstance(data, dict):
        raise ModelError.single(path, "", "a model file must be a YAML mapping", "start with 'name:', 'groups:' ...")
    try:
        return ScoringModel.model_validate(data)
    except ValidationError as exc:
        raise ModelError(problems_from_validation(path, data, exc)) from exc


def load_model_file(path: Path) -> ScoringModel:
    """Load and validate one model file."""
    return parse_model(path, read_model_data(path))


def load_model(reference: str, config_dir: Path) -> ScoringModel:
    """Load a model by name (``config_dir/<name>.yaml``, else the preset of that name) or by file path."""
    return load_model_file(resolve_model_path(reference, config_dir))
