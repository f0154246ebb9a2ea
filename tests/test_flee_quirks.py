"""Input quirks that Flee tolerates: borderflow reads them as Flee does and says so.

One test (or two) per quirk of docs/flee.md's "Input quirks" table, on small synthetic
scenarios: the warning names the file, row and what was done, and the run equals the same
scenario mended by hand wherever Flee treats the two alike.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from borderflow.errors import ScenarioError
from borderflow.rules.flee import FleeModel
from borderflow.scenario.flee_io import Series, read_flee_scenario
from borderflow.scenario.flee_series import merge_series
from borderflow.scenario.flee_settings import PROFILES, FleeSettings, load_flee_settings
from borderflow.scenario.locate import BUILTIN_FLEE, resolve_scenario
from scenario_factory import START, write_scenario

DAYS = 12


def scenario(root: Path) -> Path:
    """Conflict zones A and D_C (from day 3, by conflicts.csv), town T, camps B and C."""
    return write_scenario(
        root,
        locations=[
            ("A", "conflict_zone", 1000),
            ("D_C", "conflict_zone", 3000),
            ("T", "town", 500),
            ("B", "camp", 10_000),
            ("C", "camp", 10_000),
        ],
        routes=[("A", "T", 50), ("D_C", "T", 80), ("T", "B", 100), ("T", "C", 300)],
        camp_series={"B": [(0, 0), (5, 50), (DAYS, 120)], "C": [(0, 10), (DAYS, 70)]},
        conflicts={"A": [1.0] * DAYS, "D_C": [0.0] * 3 + [1.0] * (DAYS - 3)},
        days=DAYS,
    )


def run(path: Path, compat: str = "borderflow", seed: int = 4) -> FleeModel:
    settings = load_flee_settings(None, compat)
    return FleeModel(read_flee_scenario(path, compatibility=compat), settings, seed).run()


def warnings_of(path: Path) -> list[str]:
    return list(read_flee_scenario(path).warnings)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def same_run(a: FleeModel, b: FleeModel) -> None:
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.n_agents, b.n_agents)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """The scenario twice: one to give a quirk, one to stay mended."""
    return scenario(tmp_path / "quirk"), scenario(tmp_path / "mended")


def test_the_synthetic_scenario_is_clean(pair) -> None:
    quirk, _ = pair
    assert warnings_of(quirk) == []


# -- data_layout.csv: a series for a place that is not a location (CAR 2013: Bossobolo) -----


def add_orphan_series(root: Path) -> None:
    source = root / "source_data"
    (source / "bossobolo.csv").write_text("Date,count\n2020-01-01,5\n2020-01-09,45\n")
    with (source / "data_layout.csv").open("a") as f:
        f.write("Bossobolo,bossobolo.csv\n")


def test_layout_series_for_no_location_is_read_and_unused(pair) -> None:
    quirk, mended = pair
    add_orphan_series(quirk)
    (line,) = warnings_of(quirk)
    assert line.startswith(f"{quirk / 'source_data' / 'data_layout.csv'}, row 4, column 'name':")
    assert "'Bossobolo' is not a location in locations.csv; its series is read" in line
    # Spawning from the total (Flee 3.1), the series is never used.
    same_run(run(quirk, "3.1"), run(mended, "3.1"))


@pytest.mark.parametrize("compat", ["head", "borderflow"])
def test_layout_series_for_no_location_counts_in_arrivals(pair, compat) -> None:
    """Flee head sums the increments of every series after the total, this one included."""
    quirk, mended = pair
    add_orphan_series(quirk)
    with_orphan, without = run(quirk, compat), run(mended, compat)
    assert with_orphan.schedule.new.sum() == without.schedule.new.sum() + 40
    assert with_orphan.camps == without.camps == ["B", "C"]


# -- a camp series that repeats a date or goes back in time (nigeria2016, ukraine2022, …) ---


def test_series_repeating_a_row_runs_as_without_it(pair) -> None:
    quirk, mended = pair
    edit(quirk / "source_data" / "b.csv", "2020-01-06,50\n", "2020-01-06,50\n2020-01-06,50\n")
    (line,) = warnings_of(quirk)
    assert line.startswith(f"{quirk / 'source_data' / 'b.csv'}, row 4, column 'date':")
    assert "date 2020-01-06 repeats row 3; rows kept in file order" in line
    for compat in ("head", "3.1", "borderflow"):
        same_run(run(quirk, compat), run(mended, compat))


def test_series_going_back_is_interpolated_in_file_order_as_flee() -> None:
    """Flee's numbers for rows dated 0, 10, 20, 5, 30 (worked by hand from its algorithm)."""
    s = Series("x", np.array([0, 10, 20, 5, 30]), np.array([0.0, 100, 200, 50, 300]))
    days = [-3, 0, 5, 12, 19, 20, 25, 29, 30, 40]
    # t <= 0: the first row; 0 < t < 10: toward row 2; 10 <= t < 20: rows 2-3; from 20 the
    # first later-dated row is the last (30), reached from the row before it (5, 50).
    want = [0, 0, 50, 120, 190, 200, 250, 290, 300, 300]
    assert [s.at(t) for t in days] == want
    np.testing.assert_array_equal(s.daily(41)[days[1:]], want[1:])
    pts_days, pts_values = s.points()
    assert list(pts_days) == [0, 5, 10, 20, 30]
    assert list(pts_values) == [0, 50, 100, 200, 300]


def test_series_going_back_is_read_with_one_warning(pair) -> None:
    quirk, _ = pair
    body = "Date,count\n2020-01-01,0\n2020-01-06,50\n2020-01-04,20\n2020-01-05,30\n2020-01-13,120\n"
    (quirk / "source_data" / "b.csv").write_text(body)
    sc = read_flee_scenario(quirk)
    (line,) = sc.warnings
    assert line.startswith(f"{quirk / 'source_data' / 'b.csv'}, row 4, column 'date':")
    assert "date 2020-01-04 is earlier than 2020-01-06 on row 3 (and 1 more row(s)" in line
    b = next(s for s in sc.series if s.name == "B")
    assert list(b.days) == [0, 5, 3, 4, 12]  # file order kept
    # From day 5 the first later row is day 12, reached from the row before it (day 4, 30).
    assert [b.at(t) for t in (4, 5, 8, 12)] == [40, 41, 75, 120]


def test_registration_correction_on_a_repeated_date_applies_at_each(pair) -> None:
    quirk, _ = pair
    body = (
        "Date,count\n2020-01-01,10\n2020-01-06,40\n2020-01-11,80\n2020-01-06,20\n2020-01-13,120\n"
    )
    (quirk / "source_data" / "b.csv").write_text(body)
    (quirk / "input_csv" / "registration_corrections.csv").write_text("B,2020-01-06\n")
    sc = read_flee_scenario(quirk)
    assert any("2020-01-06 is on 2 rows of 'B''s series" in w for w in sc.warnings)
    b = next(s for s in sc.series if s.name == "B")
    # Row 2 (40) first scales row 1 by 40/10; then row 4 (20) scales rows 1-3 by 20/80.
    np.testing.assert_allclose(b.values, [10.0, 10.0, 20.0, 20.0, 120.0])


# -- conflicts.csv: a column with spaces where locations.csv has underscores (venezuela2022) --


@pytest.fixture
def respelled(tmp_path: Path) -> tuple[Path, Path, Path]:
    """D_C starts as a town and conflicts.csv turns it into a conflict zone from day 3."""
    roots = [scenario(tmp_path / n) for n in ("quirk", "dropped", "renamed")]
    for root in roots:
        row = "D_C,r,Home,0.1,0.2,conflict_zone,{},3000"
        edit(root / "input_csv" / "locations.csv", row.format(0), row.format(3))
    quirk, dropped, _ = roots
    edit(quirk / "input_csv" / "conflicts.csv", "#Day,A,D_C", "#Day,A, D C")
    conflicts = dropped / "input_csv" / "conflicts.csv"
    conflicts.write_text("".join(line.rsplit(",", 1)[0] + "\n" for line in conflicts.open()))
    return tuple(roots)


def test_respelled_conflict_column_warns(respelled) -> None:
    quirk, dropped, _ = respelled
    (line,) = warnings_of(quirk)
    assert line.startswith(f"{quirk / 'input_csv' / 'conflicts.csv'}, row 1, column 'D C':")
    assert "but 'D_C' is (spaces for underscores)" in line
    assert "--compat head and 3.1 ignore the column, as Flee does" in line
    assert warnings_of(dropped) == []


@pytest.mark.parametrize("compat", ["head", "3.1"])
def test_respelled_conflict_column_ignored_as_flee(respelled, compat) -> None:
    quirk, dropped, _ = respelled
    a = run(quirk, compat)
    same_run(a, run(dropped, compat))
    assert a.conflict[a.index["D_C"]] <= 0


def test_respelled_conflict_column_read_by_default_rules(respelled) -> None:
    quirk, _, renamed = respelled
    assert PROFILES["borderflow"].respelled_conflicts
    a, b = run(quirk), run(renamed)
    same_run(a, b)
    assert a.conflict[a.index["D_C"]] > 0


# -- files that newer scenarios carry ---------------------------------------------------------


def test_population_table_is_cross_checked_not_used(pair) -> None:
    quirk, mended = pair
    (quirk / "input_csv" / "population.csv").write_text(
        "States,Population\nA,1000\nD C,2999\nElsewhere,7\n"
    )
    (line,) = warnings_of(quirk)
    assert line.startswith(f"{quirk / 'input_csv' / 'population.csv'}, row 3:")
    assert "'D C' has 2,999 here but 3,000 in locations.csv, whose number is used" in line
    same_run(run(quirk), run(mended))


def test_empty_registration_corrections_equals_none(pair) -> None:
    quirk, mended = pair
    (quirk / "input_csv" / "registration_corrections.csv").write_text("")
    assert not (mended / "input_csv" / "registration_corrections.csv").exists()
    assert warnings_of(quirk) == []
    same_run(run(quirk), run(mended))


def test_demographics_files_are_not_needed(pair) -> None:
    quirk, mended = pair
    (quirk / "input_csv" / "demographics_age.csv").write_text("age,Default\n0,0.5\n1,0.5\n")
    assert warnings_of(quirk) == []
    same_run(run(quirk), run(mended))


def test_location_changes_are_refused_by_name(pair) -> None:
    quirk, _ = pair
    (quirk / "input_csv" / "location_changes.csv").write_text("T,camp,5\n")
    with pytest.raises(ScenarioError) as info:
        read_flee_scenario(quirk)
    assert info.value.file == str(quirk / "input_csv" / "location_changes.csv")
    assert "a Flee feature borderflow does not implement" in info.value.message


# -- the two period files --------------------------------------------------------------------


def test_conflict_period_alone_reads_like_sim_period(pair) -> None:
    quirk, mended = pair
    inputs = quirk / "input_csv"
    (inputs / "sim_period.csv").rename(inputs / "conflict_period.csv")
    assert warnings_of(quirk) == []
    sc = read_flee_scenario(quirk)
    assert (sc.start_date, sc.length) == (START, DAYS)
    same_run(run(quirk), run(mended))


def test_period_files_that_disagree_warn_and_follow_the_version(pair) -> None:
    quirk, _ = pair
    inputs = quirk / "input_csv"
    (inputs / "conflict_period.csv").write_text("StartDate,2020-01-03\nLength,5\n")
    head = read_flee_scenario(quirk)
    (line,) = head.warnings
    assert line.startswith(f"{inputs / 'conflict_period.csv'}: says 2020-01-03 for 5 days")
    assert "sim_period.csv is used" in line
    assert (head.start_date, head.length) == (START, DAYS)
    v31 = read_flee_scenario(quirk, compatibility="3.1")
    assert (v31.start_date, v31.length) == (dt.date(2020, 1, 3), 5)
    assert "conflict_period.csv is used" in v31.warnings[0]


def test_no_period_file_is_refused(pair) -> None:
    quirk, _ = pair
    (quirk / "input_csv" / "sim_period.csv").unlink()
    with pytest.raises(ScenarioError, match=r"no period file: needs sim_period\.csv"):
        read_flee_scenario(quirk)


# -- several files for one camp (CAR): Flee's merge ------------------------------------------


def test_two_files_for_one_camp_merge_as_flee(pair) -> None:
    quirk, _ = pair
    source = quirk / "source_data"
    (source / "b2.csv").write_text("Date,count\n2020-01-01,1\n2020-01-04,4\n2020-01-09,9\n")
    edit(source / "data_layout.csv", "B,b.csv", "B,b.csv,b2.csv")
    sc = read_flee_scenario(quirk)
    b = next(s for s in sc.series if s.name == "B")
    # b.csv: days 0, 5, 12 (0, 50, 120). Walking b2's rows: day 0 matches (0+1); day 3 falls
    # before b.csv's day 5 (4+50); day 8 passes day 5 (50 + b2's previous count, 4), then
    # falls before day 12 (9+120). b.csv's day 12 comes after b2's last row: dropped.
    assert list(b.days) == [0, 3, 5, 8]
    assert list(b.values) == [1.0, 54.0, 54.0, 129.0]
    assert any("1 row(s) of the files before 'b2.csv'" in w for w in sc.warnings)


def test_merge_matches_flee_on_equal_dates() -> None:
    first = (np.array([0, 5, 9]), np.array([10.0, 20.0, 30.0]))
    second = (np.array([0, 5, 9]), np.array([1.0, 2.0, 3.0]))
    (days, values), dropped = merge_series(first, second)
    assert (list(days), list(values), dropped) == ([0, 5, 9], [11.0, 22.0, 33.0], 0)


def test_second_file_starting_later_is_refused_as_flee_fails(pair) -> None:
    quirk, _ = pair
    source = quirk / "source_data"
    (source / "b2.csv").write_text("Date,count\n2020-01-04,4\n")
    edit(source / "data_layout.csv", "B,b.csv", "B,b.csv,b2.csv")
    with pytest.raises(ScenarioError) as info:
        read_flee_scenario(quirk)
    assert info.value.row == 2 and info.value.column == "file"
    assert "'b2.csv' starts on 2020-01-04, after the files before it" in info.value.message


# -- rule choices ----------------------------------------------------------------------------


def test_rule_choices_override_the_profile(tmp_path: Path) -> None:
    f = tmp_path / "s.yml"
    f.write_text("compatibility: '3.1'\nrule_choices:\n  day0_capacity_cut: true\n")
    s = load_flee_settings(f)
    assert s.rules.day0_capacity_cut and not s.rules.spawn_from_camps
    f.write_text("rule_choices:\n  fly: true\n")
    with pytest.raises(ScenarioError, match="unknown rule"):
        load_flee_settings(f)


def test_sum_from_camps_in_a_file_wins_over_the_profile(tmp_path: Path) -> None:
    f = tmp_path / "s.yml"
    f.write_text("spawn_rules:\n  sum_from_camps: true\n")
    assert load_flee_settings(f).rules.spawn_from_camps
    assert FleeSettings().rules.spawn_from_camps == PROFILES["borderflow"].spawn_from_camps
    assert load_flee_settings(f, "3.1").rules.spawn_from_camps is False


# -- every carried scenario runs --------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN_FLEE)
def test_every_carried_scenario_reads_and_starts(name: str) -> None:
    sc = read_flee_scenario(resolve_scenario(name), days=2)
    m = FleeModel(sc, FleeSettings(), seed=1).run()
    assert m.n_agents[-1] > 0
