"""Loading models by name or path, their identity hash, and the problems `mtx config check` reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.scoring.conftest import CONFIG_DIR, PRESETS, load_preset
from tracker.scoring import ModelError, load_model, model_hash, models_dir_names, validate_model_file


def test_shipped_presets_are_all_present_and_valid():
    assert set(PRESETS) <= set(models_dir_names(CONFIG_DIR))
    for name in PRESETS:
        assert validate_model_file(CONFIG_DIR / f"{name}.yaml") == [], name


@pytest.mark.parametrize("name", PRESETS)
def test_every_signal_explains_itself_in_chinese_and_english(name):
    for signal in load_preset(name).signals:
        assert signal.label_zh.strip() and any("\u4e00" <= ch <= "\u9fff" for ch in signal.label_zh)
        assert len(signal.description) > 10


def test_preset_weight_sums_match_the_published_tools():
    assert sum(s.weight for s in load_preset("criticality-legacy").signals) == 8.5
    assert sum(s.weight for s in load_preset("criticality-pike").signals) == 10.5
    assert sum(s.weight for s in load_preset("mantianxing").signals) == 100


def test_mantianxing_is_70_quantitative_and_30_expert_points_on_0_to_100():
    model = load_preset("mantianxing")
    parts: dict[str, float] = {}
    for group in model.groups:
        parts[group.part] = parts.get(group.part, 0) + sum(s.weight for s in group.signals)
    assert parts == {"quantitative": 70, "expert": 30}
    expert = [s.name for g in model.groups if g.part == "expert" for s in g.signals]
    assert expert and all(name.startswith("expert_") for name in expert)
    assert (model.scale, model.missing.value) == (100, "coverage")


def test_load_by_path_gives_the_same_model_as_by_name():
    assert load_model(str(CONFIG_DIR / "mantianxing.yaml"), Path("/nonexistent")) == load_preset("mantianxing")


def test_unknown_model_names_the_available_ones():
    with pytest.raises(ModelError) as caught:
        load_model("mantianxin", CONFIG_DIR)
    problem = caught.value.problems[0]
    assert "unknown model 'mantianxin'" in problem.message
    assert "mantianxing" in problem.fix and "criticality-pike" in problem.fix


def test_hash_ignores_yaml_layout_but_not_content(tmp_path):
    data = yaml.safe_load((CONFIG_DIR / "compass-activity.yaml").read_text(encoding="utf-8"))
    relaid = tmp_path / "compass-activity.yaml"
    relaid.write_text("# a comment\n" + yaml.safe_dump(data, allow_unicode=True, default_flow_style=True), encoding="utf-8")
    original = load_preset("compass-activity")
    assert model_hash(load_model(str(relaid), tmp_path)) == model_hash(original)
    data["groups"][0]["signals"][0]["weight"] = 0.18
    relaid.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert model_hash(load_model(str(relaid), tmp_path)) != model_hash(original)


def write_variant(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((CONFIG_DIR / "mantianxing.yaml").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "mantianxing.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_problem_key_paths_use_group_and_signal_names(tmp_path):
    def edit(data):
        data["groups"][0]["signals"][1]["weight"] = "heavy"
        data["groups"][1]["signals"][0]["colour"] = "red"
    problems = validate_model_file(write_variant(tmp_path, edit))
    keys = {p.key for p in problems}
    assert "groups.activity.signals.commit_frequency.weight" in keys
    assert "groups.responsiveness.signals.issue_first_response_days.colour" in keys
    assert all(p.file.endswith("mantianxing.yaml") and p.fix for p in problems)


def test_unknown_signal_is_reported_with_a_suggestion(tmp_path):
    def edit(data):
        data["groups"][0]["signals"][0]["name"] = "contributer_count"
    [problem] = validate_model_file(write_variant(tmp_path, edit))
    assert problem.key == "groups.activity.signals.contributer_count"
    assert "unknown signal 'contributer_count'" in problem.message
    assert "did you mean 'contributor_count'" in problem.fix


def test_expert_signals_are_always_accepted(tmp_path):
    def edit(data):
        data["groups"][-1]["signals"][0]["name"] = "expert_industry_adoption"
    assert validate_model_file(write_variant(tmp_path, edit)) == []


def test_file_name_differing_from_model_name_is_a_warning(tmp_path):
    path = tmp_path / "award-2026.yaml"
    shutil.copy(CONFIG_DIR / "mantianxing.yaml", path)
    [problem] = validate_model_file(path)
    assert (problem.key, problem.severity) == ("name", "warning")


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ngroups: [\n  - a: b\n", encoding="utf-8")
    [problem] = validate_model_file(path)
    assert problem.key.startswith("line ") and "not valid YAML" in problem.message


def test_weights_that_do_not_add_up_above_zero_are_rejected(tmp_path):
    def edit(data):
        updated_since = dict(data["groups"][0]["signals"][3], weight=-1)  # the only signal, negative
        data["groups"] = [dict(data["groups"][0], signals=[updated_since])]
    [problem] = validate_model_file(write_variant(tmp_path, edit))
    assert "weights must add up to more than 0" in problem.message
