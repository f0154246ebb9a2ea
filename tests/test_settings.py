"""Flee settings files: defaults, Flee's v1 bundle, and values that must be refused."""

from __future__ import annotations

import pytest

from borderflow.errors import ScenarioError
from borderflow.scenario.flee_io import read_flee_scenario
from borderflow.scenario.flee_settings import FleeSettings, load_flee_settings
from scenario_factory import write_scenario


def test_no_file_means_flee_code_defaults():
    s = load_flee_settings(None)
    assert s.move_rules.conflict_weight == pytest.approx(10**-0.5)
    assert s.move_rules.max_move_speed == 360.0
    assert s.move_rules.camp_movechance == 0.001
    assert s.awareness == 1


def test_empty_file_equals_no_file(tmp_path):
    f = tmp_path / "simsetting.yml"
    f.write_text("")
    assert load_flee_settings(f) == FleeSettings()


def test_v1_rules_bundle(tmp_path):
    f = tmp_path / "s.yml"
    f.write_text("move_rules:\n  use_v1_rules: true\n")
    m = load_flee_settings(f).move_rules
    assert (m.max_move_speed, m.camp_weight, m.conflict_weight) == (200.0, 2.0, 0.25)


def test_awareness_minus_one_is_one(tmp_path):
    f = tmp_path / "s.yml"
    f.write_text("move_rules:\n  awareness_level: -1\n")
    assert load_flee_settings(f).awareness == 1


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("move_rules:\n  max_move_speed: true\n", "move_rules.max_move_speed"),
        ("move_rules:\n  max_move_speed: .inf\n", "move_rules.max_move_speed"),
        ("move_rules:\n  awareness_level: 0\n", "move_rules"),
        ("move_rules:\n  camp_movechance: 'high'\n", "move_rules.camp_movechance"),
        ("spawn_rules:\n  conflict_driven_spawning: {spawn_mode: constant}\n", "conflict_driven"),
    ],
)
def test_bad_values_are_refused_by_name(tmp_path, text, key):
    f = tmp_path / "s.yml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_flee_settings(f)
    assert key in info.value.describe()
    assert str(f) in info.value.describe()


def test_link_closure_needs_a_route(tmp_path):
    path = write_scenario(
        tmp_path,
        locations=[("A", "conflict_zone", 10), ("B", "town", 10), ("C", "camp", 100)],
        routes=[("A", "B", 10), ("B", "C", 10)],
        camp_series={"C": [(0, 0), (3, 5)]},
        days=3,
        closures=[("link", "A", "C", 0, 2)],
    )
    with pytest.raises(ScenarioError) as info:
        read_flee_scenario(path)
    e = info.value
    assert e.file.endswith("closures.csv") and e.row == 2 and e.column == "name2"
    assert "no route between 'A' and 'C'" in e.message
