"""Scenario readers on values and files a careless user or an attacker might give them.

Every number of a border case is held to the range its mechanism can take, the period is
bounded, and no reader leaves the scenario folder (a name with ``..``, a symbolic link).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from border_factory import write_case
from borderflow.errors import ScenarioError
from borderflow.scenario.border_io import read_border_case
from borderflow.scenario.flee_io import read_flee_scenario

SECRET = "SECRET-FIRST-LINE-root:x:0:0"


def run_cli(root: Path, out: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "borderflow", "run", str(root), "--out", str(out), "--no-plots"],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def one_line(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1))


# -- defect 4: the stock -----------------------------------------------------------------------
@pytest.mark.parametrize("stock", ["nan", "inf", "-5", "1e12"])
def test_a_stock_that_is_not_a_population_is_one_line_and_exit_2(tmp_path, stock):
    root = write_case(tmp_path / "case")
    replace(root / "scenario.toml", "stock = { value = 2000,", f"stock = {{ value = {stock},")
    line = one_line(run_cli(root, tmp_path / "out"))
    assert "scenario.toml" in line and "population.stock" in line
    assert not (tmp_path / "out").exists()


# -- defect 5: the period ----------------------------------------------------------------------
def test_a_period_of_thousands_of_years_is_refused_at_once(tmp_path):
    root = write_case(tmp_path / "case", end="9999-12-31")
    line = one_line(run_cli(root, tmp_path / "out", timeout=60))
    assert "scenario.toml" in line and "'case'" in line and "at most 3660" in line
    for start, end in (("1066-10-14", "1066-10-20"), ("2300-01-01", "2300-02-01")):
        with pytest.raises(ScenarioError, match="between 1900 and 2200"):
            read_border_case(write_case(tmp_path / start, start=start, end=end))


# -- probabilities and rates -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("base_hazard = { value = 0.01,", "base_hazard = { value = 2.0,", "departure.base_hazard"),
        ("base_hazard = { value = 0.01,", "base_hazard = { value = -0.1,", "departure.base_hazard"),
        ("detection_base = { value = 0.0,", "detection_base = { value = 1.5,",
         "stranded.detection_base"),
        ("return_per_day = { value = 0.0,", "return_per_day = { value = 7,",
         "stranded.return_per_day"),
        ("child_share_in_families = { value = 0.5,", "child_share_in_families = { value = 1.2,",
         "population.child_share_in_families"),
        ("bus_km_per_day = { value = 1000.0,", "bus_km_per_day = { value = 0,",
         "travel.bus_km_per_day"),
        ("social_window_days = { value = 7,", "social_window_days = { value = 0,",
         "departure.social_window_days"),
        ("family_multiplier = { value = 1.0,", "family_multiplier = { value = -1,",
         "departure.family_multiplier"),
        ("preparation_days = { value = 1.0,", "preparation_days = { value = nan,",
         "departure.preparation_days"),
    ],
)  # fmt: skip
def test_every_probability_and_rate_of_scenario_toml_is_range_checked(tmp_path, old, new, column):
    root = write_case(tmp_path / "case")
    replace(root / "scenario.toml", old, new)
    with pytest.raises(ScenarioError) as info:
        read_border_case(root)
    assert info.value.file.endswith("scenario.toml")
    assert info.value.column in (column, f"{column}.value")
    assert "out of range" in info.value.message or "finite" in info.value.message


@pytest.mark.parametrize(
    ("file", "old", "new", "column"),
    [
        ("groups.csv", "NAT,1.0,0.0,0.0,1.0", "NAT,1.0,0.0,0.0,inf", "hazard_multiplier"),
        ("crossings.csv", "A,XA,YA,DA,0.0,24.0,10000", "A,XA,YA,DA,0.0,24.0,99999999999",
         "capacity_per_day"),
        ("routes.csv", "R,C,500,bus", "R,C,nan,bus", "distance_km"),
        ("needs.csv", "water_l,15,", "water_l,inf,", "per_person"),
    ],
)  # fmt: skip
def test_csv_numbers_must_be_finite_and_bounded(tmp_path, file, old, new, column):
    root = write_case(tmp_path / "case")
    replace(root / file, old, new)
    with pytest.raises(ScenarioError) as info:
        read_border_case(root)
    assert info.value.file.endswith(file) and info.value.column == column


@pytest.mark.parametrize(
    ("kind", "value", "target"),
    [("hazard", -2.0, ""), ("reinforcement", 3.0, "A"), ("return_flight", 1e12, "A"),
     ("shelter", -5.0, "A"), ("deadline", float("inf"), "")],
)  # fmt: skip
def test_event_values_are_range_checked_by_kind(tmp_path, kind, value, target):
    event = ("2025-01-05", "", kind, value, target, "S" if kind == "shelter" else "", "x")
    root = write_case(tmp_path / "case", events=[event])
    with pytest.raises(ScenarioError) as info:
        read_border_case(root)
    assert info.value.file.endswith("events.csv") and info.value.row == 2
    assert info.value.column in ("value", "(row)")


def test_a_route_from_a_place_to_itself_is_refused(tmp_path):
    root = write_case(tmp_path / "case")
    replace(root / "routes.csv", "C,S,5,bus", "S,S,5,bus")
    with pytest.raises(ScenarioError) as info:
        read_border_case(root)
    e = info.value
    assert e.file.endswith("routes.csv") and e.row == 9 and e.column == "to"
    assert "to itself" in e.message


# -- readers stay in the scenario folder -------------------------------------------------------
def test_a_border_case_cannot_name_or_link_files_outside_its_folder(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET}\nmore\n")
    root = write_case(tmp_path / "case")
    text = (root / "scenario.toml").read_text()
    (root / "scenario.toml").write_text(text + '\n[files]\nroutes = "../secret.csv"\n')
    with pytest.raises(ScenarioError) as info:
        read_border_case(root)
    assert info.value.file.endswith("scenario.toml") and info.value.column == "files.routes"
    assert "outside the scenario folder" in info.value.message
    (root / "scenario.toml").write_text(text)
    (root / "routes.csv").unlink()
    (root / "routes.csv").symlink_to(secret)
    line = one_line(run_cli(root, tmp_path / "out"))
    assert "routes.csv" in line and "outside the scenario folder" in line
    assert SECRET not in line
    # a link that stays inside the folder is fine
    (root / "routes.csv").unlink()
    write_case(tmp_path / "other")
    (root / "data").mkdir()
    (tmp_path / "other" / "routes.csv").rename(root / "data" / "routes.csv")
    (root / "routes.csv").symlink_to(root / "data" / "routes.csv")
    assert len(read_border_case(root).routes) == 8


def test_a_flee_layout_naming_a_file_outside_is_refused_without_reading_it(flee_copy, tmp_path):
    root = flee_copy("mali")
    (tmp_path / "scenarios" / "outside.csv").write_text("2012-02-29,5\n2012-03-01,6\n")
    layout = root / "source_data" / "data_layout.csv"
    for name in ("../../outside.csv", "../../../../../../../../../etc/passwd"):
        lines = layout.read_text().splitlines()
        lines[2] = f"Mentao,{name}"
        layout.write_text("\n".join(lines) + "\n")
        with pytest.raises(ScenarioError) as info:
            read_flee_scenario(root)
        e = info.value
        assert e.file == str(layout) and e.row == 3 and e.column == "file"
        assert "outside the scenario folder" in e.message and "root:" not in e.message


def test_a_flee_file_linked_outside_is_refused_and_never_echoed(flee_copy, tmp_path):
    root = flee_copy("mali")
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET},elsewhere,5\n")
    for rel in ("input_csv/routes.csv", "source_data/bf-mentao.csv"):
        target = root / rel
        original = target.read_bytes()
        target.unlink()
        target.symlink_to(secret)
        line = one_line(run_cli(root, tmp_path / "out"))
        assert rel.split("/")[1] in line and "outside the scenario folder" in line
        assert SECRET not in line
        target.unlink()
        target.write_bytes(original)
    read_flee_scenario(root)  # whole again


# -- found by fuzzing ----------------------------------------------------------------------------
def test_a_scenario_toml_that_is_not_utf8_is_one_line(tmp_path):
    root = write_case(tmp_path / "case")
    (root / "scenario.toml").write_bytes(b"\x80" + (root / "scenario.toml").read_bytes())
    line = one_line(run_cli(root, tmp_path / "out"))
    assert "scenario.toml" in line and "not UTF-8" in line


@pytest.mark.parametrize("name", ["a\x00b.csv", "x" * 5000 + ".csv"])
def test_a_flee_layout_naming_an_impossible_file_is_one_error(flee_copy, name):
    root = flee_copy("mali")
    layout = root / "source_data" / "data_layout.csv"
    lines = layout.read_text().splitlines()
    lines[2] = f"Mentao,{name}"
    layout.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError) as info:
        read_flee_scenario(root)
    assert info.value.file == str(layout) and info.value.row == 3 and info.value.column == "file"
