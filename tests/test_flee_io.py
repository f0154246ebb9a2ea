"""The Flee scenario reader: the real Mali and Burundi inputs, interpolation, and bad inputs.

Every bad-input test corrupts one thing in a fresh copy of a built-in scenario and checks that
:class:`ScenarioError` names the right file, row and column, with a recognisable message.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from borderflow.errors import ScenarioError
from borderflow.scenario.flee_io import FleeScenario, Series, read_flee_scenario
from borderflow.scenario.locate import builtin_root

# --------------------------------------------------------------------------------------------
# helpers: an independent, minimal reading of the raw files, to compare the reader against


def builtin(name: str) -> Path:
    return builtin_root() / "flee" / name


def raw_rows(path: Path) -> list[list[str]]:
    """Non-blank rows of a CSV, comment/header rows (first cell starting with '#') dropped."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [[c.strip() for c in r] for r in csv.reader(handle)]
    return [r for r in rows if any(r) and not r[0].startswith("#")]


def is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def raw_series(path: Path, start: dt.date) -> tuple[list[int], list[float]]:
    """(day offsets, counts) of a camp/total file, skipping any header and empty counts."""
    pairs = sorted(
        ((dt.date.fromisoformat(r[0]) - start).days, float(r[1]))
        for r in raw_rows(path)
        if is_date(r[0]) and len(r) > 1 and r[1]
    )
    return [d for d, _ in pairs], [v for _, v in pairs]


def layout(name: str) -> list[tuple[str, str]]:
    """(series name, file) pairs of data_layout.csv, in file order."""
    return [(r[0], r[1]) for r in raw_rows(builtin(name) / "source_data" / "data_layout.csv")]


def expected_series(name: str, start: dt.date, hasten: int = 1) -> dict[str, np.ndarray]:
    """Raw counts with Flee's level-1 registration corrections applied, computed here."""
    source = builtin(name) / "source_data"
    out: dict[str, tuple[list[int], np.ndarray]] = {}
    for series, file in layout(name):
        days, values = raw_series(source / file, start)
        out[series] = (days, np.asarray(values) / hasten)
    for camp, date, *_ in raw_rows(builtin(name) / "input_csv" / "registration_corrections.csv"):
        days, values = out[camp]
        offset = (dt.date.fromisoformat(date) - start).days
        if offset < 0:
            continue
        i = days.index(offset)
        values[:i] *= values[i] / values[i - 1]
    return {k: v for k, (_, v) in out.items()}


# --------------------------------------------------------------------------------------------
# (a) the real scenarios

FACTS = {
    "mali": {
        "locations": 23,
        "routes": 35,
        "start": dt.date(2012, 2, 29),
        "length": 300,
        "camps": (
            "Bobo-Dioulasso",
            "Mentao",
            "Fassala-Mbera",
            "Abala",
            "Mangaize",
            "Tabareybarey",
            "Niamey",
        ),
        "closures": (
            ("country", "Mali", "Burkina_Faso", 0, 22),
            ("country", "Mali", "Niger", 0, 33),
        ),
    },
    "burundi": {
        "locations": 30,
        "routes": 41,
        "start": dt.date(2015, 5, 1),
        "length": 396,
        "camps": ("Mahama", "Nduta", "Nyarugusu", "Nakivale", "Lusenda"),
        "closures": (
            ("location", "Bujumbura", "Lusenda", 0, 91),
            ("remove_forced_redirection", "Nduta", "Nyarugusu", 101, 0),
        ),
    },
}


@pytest.fixture(scope="module", params=sorted(FACTS))
def real(request: pytest.FixtureRequest) -> tuple[str, FleeScenario]:
    return request.param, read_flee_scenario(builtin(request.param))


def test_real_locations_match_file(real: tuple[str, FleeScenario]) -> None:
    name, sc = real
    rows = raw_rows(builtin(name) / "input_csv" / "locations.csv")
    assert len(rows) == FACTS[name]["locations"]
    assert len(sc.locations) == len(rows)
    assert [loc.name for loc in sc.locations] == [r[0] for r in rows]
    assert [loc.country for loc in sc.locations] == [r[2] for r in rows]
    for loc, r in zip(sc.locations, rows, strict=True):
        assert loc.lat == pytest.approx(float(r[3]))
        assert loc.lon == pytest.approx(float(r[4]))
        assert loc.size == int(r[7] or 0)
        if "conflict" in r[5]:
            assert loc.conflict_date == int(r[6])
        else:
            assert loc.conflict_date is None
    assert sc.location_index[sc.locations[-1].name] == len(rows) - 1
    camps = {loc.name for loc in sc.locations if "camp" in loc.kind}
    assert camps == set(FACTS[name]["camps"])


def test_real_routes_match_file(real: tuple[str, FleeScenario]) -> None:
    name, sc = real
    rows = raw_rows(builtin(name) / "input_csv" / "routes.csv")
    assert len(rows) == FACTS[name]["routes"]
    assert [(r.a, r.b, r.distance) for r in sc.routes] == [(r[0], r[1], float(r[2])) for r in rows]
    names = set(sc.location_index)
    assert all(r.a in names and r.b in names and r.distance > 0 for r in sc.routes)


def test_real_period_and_closures(real: tuple[str, FleeScenario]) -> None:
    name, sc = real
    assert sc.start_date == FACTS[name]["start"]
    assert sc.length == FACTS[name]["length"]
    assert sc.name == name
    got = tuple((c.kind, c.name1, c.name2, c.start, c.end) for c in sc.closures)
    assert got == FACTS[name]["closures"]
    assert [c.row for c in sc.closures] == [2, 3]


def test_real_conflicts_match_file(real: tuple[str, FleeScenario]) -> None:
    name, sc = real
    path = builtin(name) / "input_csv" / "conflicts.csv"
    with path.open(newline="") as handle:
        rows = [[c.strip() for c in r] for r in csv.reader(handle) if r]
    header, data = rows[0], rows[1:]
    known = set(sc.location_index)
    kept = [(j, h) for j, h in enumerate(header) if j > 0 and h in known]
    assert sc.conflict_names == tuple(h for _, h in kept)
    assert sc.conflicts.shape == (len(data), len(kept))
    assert sc.conflicts.shape[0] >= sc.length
    expected = np.array([[float(r[j] or 0) for j, _ in kept] for r in data])
    np.testing.assert_array_equal(sc.conflicts, expected)
    dropped = [h for j, h in enumerate(header) if j > 0 and h and h not in known]
    assert len(sc.warnings) == len(dropped)
    for column, warning in zip(dropped, sc.warnings, strict=True):
        assert f"column '{column}'" in warning
        assert "conflicts.csv" in warning


def test_real_burundi_conflict_columns_not_in_locations_are_warned() -> None:
    sc = read_flee_scenario(builtin("burundi"))
    joined = "\n".join(sc.warnings)
    assert "'Isale'" in joined and "'Gitega-Ruyigi'" in joined
    assert "Isale" not in sc.conflict_names and "Bujumbura" in sc.conflict_names


def test_real_series_layout_and_values(real: tuple[str, FleeScenario]) -> None:
    name, sc = real
    assert [s.name for s in sc.series] == ["total", *FACTS[name]["camps"]]
    assert [s.name for s in sc.series] == [n for n, _ in layout(name)]
    expected = expected_series(name, sc.start_date)
    for s in sc.series:
        assert len(s.days) > 0, s.name
        assert len(s.days) == len(s.values)
        assert np.all(np.diff(s.days) > 0), s.name
        assert np.all(s.values >= 0), s.name
        np.testing.assert_allclose(s.values, expected[s.name], rtol=1e-12, err_msg=s.name)


def test_mali_registration_corrections_applied() -> None:
    sc = read_flee_scenario(builtin("mali"))
    series = {s.name: s for s in sc.series}
    # mau-fassala-mbera.csv: 17790 on 2012-02-29, 103731 on 2012-08-19, 54028 on 2012-12-31,
    # and registration_corrections.csv rescales everything before 2012-12-31.
    fm = series["Fassala-Mbera"]
    assert fm.days[0] == 0
    assert fm.values[0] != 17790
    assert fm.values[0] == pytest.approx(17790 * 54028 / 103731)
    k = int(np.flatnonzero(fm.days == (dt.date(2012, 12, 31) - sc.start_date).days)[0])
    assert fm.values[k] == 54028  # the correction point itself keeps its raw value
    assert fm.values[k - 1] == pytest.approx(54028)  # the level-1 peak is scaled onto it
    # bf-mentao.csv: 4091 on 2012-03-24 (day 24), corrected by 5876/10038 (2012-10-03).
    mentao = series["Mentao"]
    assert mentao.at(24) == int(4091 * 5876 / 10038)
    assert mentao.at(24) != 4091
    # The total is never corrected.
    assert series["total"].at(0) == 20075


def test_burundi_registration_corrections_applied() -> None:
    sc = read_flee_scenario(builtin("burundi"))
    start = sc.start_date
    series = {s.name: s for s in sc.series}
    days, raw = raw_series(builtin("burundi") / "source_data" / "tan-nyarugusu.csv", start)
    assert raw[0] == 210
    assert series["Nyarugusu"].values[0] != 210
    i = days.index((dt.date(2015, 11, 10) - start).days)
    assert series["Nyarugusu"].values[0] == pytest.approx(210 * raw[i] / raw[i - 1])
    assert series["Nyarugusu"].values[i] == raw[i]


def test_total_interpolation_on_real_data() -> None:
    sc = read_flee_scenario(builtin("mali"))
    total = sc.series[0]
    # refugees.csv: 20075 on day 0, 25281 on day 7.
    assert total.at(-3) == 20075
    assert total.at(0) == 20075
    assert total.at(3) == int(20075 + (25281 - 20075) * 3 / 7)
    assert total.at(7) == 25281
    np.testing.assert_array_equal(total.daily(8), [total.at(t) for t in range(8)])


def test_days_override_and_hasten() -> None:
    sc = read_flee_scenario(builtin("mali"), days=10, hasten=10)
    assert sc.length == 10
    assert sc.series[0].values[0] == pytest.approx(2007.5)
    assert sc.series[0].at(0) == 2007


def test_days_override_longer_than_conflicts_is_refused() -> None:
    with pytest.raises(ScenarioError) as info:
        read_flee_scenario(builtin("mali"), days=301)
    err = info.value
    assert Path(err.file).name == "conflicts.csv"
    assert "has 300 day rows but the run needs 301" in err.message


def test_days_zero_is_refused() -> None:
    with pytest.raises(ScenarioError, match="must be positive"):
        read_flee_scenario(builtin("mali"), days=0)


def test_crlf_and_bom_read_the_same(flee_copy) -> None:
    """Files saved by Excel (BOM, CRLF line ends) give the same scenario."""
    root = flee_copy("mali")
    for path in (*root.glob("input_csv/*.csv"), *root.glob("source_data/*.csv")):
        text = path.read_text(encoding="utf-8")
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    a, b = read_flee_scenario(builtin("mali")), read_flee_scenario(root)
    assert a.locations == b.locations
    assert a.routes == b.routes
    assert a.closures == b.closures
    assert a.start_date == b.start_date and a.length == b.length
    np.testing.assert_array_equal(a.conflicts, b.conflicts)
    for s, t in zip(a.series, b.series, strict=True):
        assert s.name == t.name
        np.testing.assert_array_equal(s.days, t.days)
        np.testing.assert_array_equal(s.values, t.values)


# --------------------------------------------------------------------------------------------
# (b) Series.at


def test_series_at_piecewise() -> None:
    s = Series("x", np.array([0, 10, 20], dtype=np.int64), np.array([100.0, 200.0, 50.0]))
    assert [s.at(d) for d in (-50, -1, 0)] == [100, 100, 100]  # constant before
    assert s.at(5) == 150
    assert s.at(3) == 130
    assert s.at(10) == 200
    assert s.at(17) == 95  # 200 - 150 * 7/10, going down
    assert [s.at(d) for d in (20, 21, 10_000)] == [50, 50, 50]  # constant after
    assert all(type(s.at(d)) is int for d in range(-2, 25))


def test_series_at_truncates_not_rounds() -> None:
    s = Series("x", np.array([0, 3], dtype=np.int64), np.array([0.0, 10.0]))
    assert [s.at(d) for d in range(4)] == [0, 3, 6, 10]  # 3.33 -> 3, 6.67 -> 6
    s = Series("x", np.array([0, 3], dtype=np.int64), np.array([10.0, 0.0]))
    assert [s.at(d) for d in range(4)] == [10, 6, 3, 0]  # 6.67 -> 6, 3.33 -> 3
    s = Series("x", np.array([5], dtype=np.int64), np.array([7.9]))
    assert [s.at(d) for d in (0, 5, 9)] == [7, 7, 7]  # a single point: constant everywhere


def test_series_daily_matches_at() -> None:
    s = Series("x", np.array([2, 9, 30], dtype=np.int64), np.array([4.0, 91.0, 12.0]))
    daily = s.daily(40)
    assert daily.dtype == np.int64
    assert daily.tolist() == [s.at(t) for t in range(40)]


@st.composite
def series_and_day(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    days = sorted(draw(st.sets(st.integers(-60, 500), min_size=1, max_size=10)))
    values = draw(st.lists(st.integers(0, 2_000_000), min_size=len(days), max_size=len(days)))
    day = draw(st.integers(-100, 600))
    return days, values, day


@given(series_and_day())
def test_series_at_property(case: tuple[list[int], list[int], int]) -> None:
    days, values, day = case
    s = Series("p", np.asarray(days, dtype=np.int64), np.asarray(values, dtype=np.float64))
    got = s.at(day)
    assert type(got) is int
    if day <= days[0]:
        assert got == values[0]
        return
    if day >= days[-1]:
        assert got == values[-1]
        return
    if day in days:
        assert got == values[days.index(day)]
        return
    k = max(i for i, d in enumerate(days) if d < day)
    d0, d1, v0, v1 = days[k], days[k + 1], values[k], values[k + 1]
    assert min(v0, v1) <= got <= max(v0, v1)
    exact = Fraction(v0) + Fraction(v1 - v0) * (day - d0) / (d1 - d0)
    assert got == math.floor(exact)


# --------------------------------------------------------------------------------------------
# (c) bad inputs: one test per case


def error_of(root: Path, **kwargs: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        read_flee_scenario(root, **kwargs)
    return info.value


def check(err: ScenarioError, path: Path, row: int | None, column: str | None, phrase: str) -> None:
    assert err.file is not None
    assert Path(err.file) == path
    assert err.row == row
    assert err.column == column
    assert phrase in err.message
    described = err.describe()
    assert described.startswith(str(path))
    assert phrase in described
    if row is not None:
        assert f"row {row}" in described
    if column is not None:
        assert f"column '{column}'" in described


def test_missing_routes_file(flee_copy) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    path.unlink()
    check(error_of(root), path, None, None, "file not found")


def test_missing_locations_file(flee_copy) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "locations.csv"
    path.unlink()
    check(error_of(root), path, None, None, "file not found")


def test_missing_data_layout(flee_copy) -> None:
    root = flee_copy("mali")
    path = root / "source_data" / "data_layout.csv"
    path.unlink()
    check(error_of(root), path, None, None, "file not found")


def test_missing_source_data_dir(flee_copy) -> None:
    root = flee_copy("mali")
    path = root / "source_data"
    for f in path.iterdir():
        f.unlink()
    path.rmdir()
    check(error_of(root), path, None, None, "not found")


def test_missing_scenario_dir(tmp_path: Path) -> None:
    path = tmp_path / "nowhere"
    check(error_of(path), path, None, None, "scenario directory not found")


def test_routes_unknown_name1(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    csv_edit.set_cell(path, 2, 0, "Atlantis")
    check(error_of(root), path, 2, "name1", "unknown location 'Atlantis'")


def test_routes_unknown_name2(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    csv_edit.set_cell(path, 5, 1, "Atlantis")
    check(error_of(root), path, 5, "name2", "unknown location 'Atlantis'")


def test_routes_row_numbers_count_blank_lines(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    csv_edit.insert_line(path, 2, "")
    csv_edit.insert_line(path, 2, ",,")
    csv_edit.set_cell(path, 5, 1, "Atlantis")  # was line 3 before the two insertions
    check(error_of(root), path, 5, "name2", "unknown location 'Atlantis'")


def test_routes_to_itself(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    csv_edit.set_line(path, 3, "Mopti,Mopti,360,0")
    check(error_of(root), path, 3, "name2", "to itself")


def test_routes_non_numeric_distance(flee_copy, csv_edit) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "routes.csv"
    csv_edit.set_cell(path, 4, 2, "63km")
    check(error_of(root), path, 4, "distance", "'63km' is not a number")


def test_routes_nan_distance(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    csv_edit.set_cell(path, 4, 2, "nan")
    check(error_of(root), path, 4, "distance", "not finite")


def test_routes_negative_distance(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    csv_edit.set_cell(path, 6, 2, "-12.5")
    check(error_of(root), path, 6, "distance", "must be positive")


def test_routes_zero_distance(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    csv_edit.set_cell(path, 2, 2, "0")
    check(error_of(root), path, 2, "distance", "must be positive")


def test_closures_unknown_location(flee_copy, csv_edit) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "closures.csv"
    csv_edit.set_cell(path, 2, 1, "Atlantis")  # location,Bujumbura,Lusenda,0,91
    check(error_of(root), path, 2, "name1", "unknown location 'Atlantis'")


def test_closures_unknown_location_name2_of_link(flee_copy, csv_edit) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "closures.csv"
    csv_edit.set_cell(path, 3, 2, "Atlantis")  # remove_forced_redirection,Nduta,Nyarugusu,...
    check(error_of(root), path, 3, "name2", "unknown location 'Atlantis'")


def test_closures_unknown_country(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "closures.csv"
    csv_edit.set_cell(path, 3, 2, "Atlantis")  # country,Mali,Niger,0,33
    check(error_of(root), path, 3, "name2", "unknown country 'Atlantis'")


def test_closures_unknown_type(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "closures.csv"
    csv_edit.set_cell(path, 2, 0, "border")
    check(error_of(root), path, 2, "closure_type", "unknown closure type 'border'")


def test_data_layout_unknown_location(flee_copy, csv_edit) -> None:
    """Flee reads a series for a place that is not a location; so do we, with a warning."""
    root = flee_copy("mali")
    path = root / "source_data" / "data_layout.csv"
    csv_edit.insert_line(path, 3, "Atlantis,bf-mentao.csv")
    sc = read_flee_scenario(root)
    assert [s.name for s in sc.series][2] == "Atlantis"
    (line,) = [w for w in sc.warnings if "Atlantis" in w]
    assert line.startswith(f"{path}, row 3, column 'name': 'Atlantis' is not a location")


def test_data_layout_names_missing_file(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "source_data" / "data_layout.csv"
    csv_edit.set_cell(path, 5, 1, "nig-nowhere.csv")  # Abala,nig-abala.csv
    check(error_of(root), path, 5, "file", "'nig-nowhere.csv', which does not exist")


def test_data_layout_file_deleted(flee_copy) -> None:
    root = flee_copy("burundi")
    (root / "source_data" / "tan-nduta.csv").unlink()
    path = root / "source_data" / "data_layout.csv"
    check(error_of(root), path, 3, "file", "'tan-nduta.csv', which does not exist")


def test_camp_without_data_layout_row(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "source_data" / "data_layout.csv"
    row = csv_edit.find_row(path, "Niamey")
    csv_edit.delete_line(path, row)
    check(error_of(root), path, None, None, "no series for camp(s) Niamey")


def test_duplicate_location(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "locations.csv"
    gao = csv_edit.find_row(path, "Gao")
    row = csv_edit.append_line(path, csv_edit.lines(path)[gao - 1])
    check(error_of(root), path, row, "name", f"duplicate location 'Gao' (first on row {gao})")


def test_unknown_location_type(flee_copy, csv_edit) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "locations.csv"
    csv_edit.set_cell(path, 9, 5, "village")  # Bubanza, a town
    check(error_of(root), path, 9, "location_type", "unknown location type 'village'")


def test_negative_population(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "locations.csv"
    csv_edit.set_cell(path, 2, 7, "-5")
    check(error_of(root), path, 2, "population", "negative")


def test_empty_locations(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "locations.csv"
    csv_edit.keep_lines(path, 1)
    check(error_of(root), path, None, None, "no locations")


def test_empty_routes(flee_copy, csv_edit) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "routes.csv"
    csv_edit.keep_lines(path, 1)
    check(error_of(root), path, None, None, "no routes")


def test_sim_period_bad_date(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "sim_period.csv"
    csv_edit.set_cell(path, 1, 1, "2012-02-30")
    check(error_of(root), path, 1, "StartDate", "'2012-02-30' is not a date")


def test_sim_period_bad_length(flee_copy, csv_edit) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "sim_period.csv"
    csv_edit.set_cell(path, 2, 1, "0")
    check(error_of(root), path, 2, "Length", "must be positive")


def test_sim_period_no_start_date(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "sim_period.csv"
    csv_edit.delete_line(path, 1)
    check(error_of(root), path, None, None, "no StartDate row")


def test_camp_series_bad_date(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "source_data" / "bf-mentao.csv"
    csv_edit.set_cell(path, 4, 0, "24/03/2012")
    check(error_of(root), path, 4, "date", "'24/03/2012' is not a date")


def test_camp_series_bad_date_on_first_line(flee_copy, csv_edit) -> None:
    """Burundi's camp files have no header: a bad first line is data, not a header."""
    root = flee_copy("burundi")
    path = root / "source_data" / "rwa-mahama.csv"
    csv_edit.set_cell(path, 1, 0, "2015-05-32")
    check(error_of(root), path, 1, "date", "'2015-05-32' is not a date")


def test_camp_series_bad_count(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "source_data" / "nig-abala.csv"
    csv_edit.set_cell(path, 3, 1, "80.4")
    check(error_of(root), path, 3, "count", "'80.4' is not an integer")


def test_camp_series_duplicate_date(flee_copy, csv_edit) -> None:
    """Flee reads a repeated date in file order; so do we, with one warning naming the row."""
    root = flee_copy("mali")
    path = root / "source_data" / "nig-niamey.csv"
    first = csv_edit.find_row(path, "2012-03-31")
    row = csv_edit.append_line(path, "2012-03-31,5")
    sc = read_flee_scenario(root)
    (line,) = [w for w in sc.warnings if str(path) in w]
    assert line.startswith(f"{path}, row {row}, column 'date': date 2012-03-31 repeats row {first}")
    niamey = next(s for s in sc.series if s.name == "Niamey")
    assert niamey.at(10_000) == 5  # from the repeated row on, its count is the one read


def test_conflicts_shorter_than_run(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "conflicts.csv"
    csv_edit.keep_lines(path, 1 + 120)
    check(error_of(root), path, None, None, "has 120 day rows but the run needs 300")
    # ... which is enough for a shorter run.
    assert read_flee_scenario(root, days=120).conflicts.shape[0] == 120


@pytest.mark.parametrize(("cell", "what"), [("x", "is not a number"), ("inf", "is not finite")])
def test_conflicts_bad_cell(flee_copy, csv_edit, cell: str, what: str) -> None:
    """The bulk conversion of conflicts.csv still names the row and column of a bad cell."""
    root = flee_copy("mali")
    path = root / "input_csv" / "conflicts.csv"
    header = csv_edit.cells(path, 1)
    gao = [c.strip() for c in header].index("Gao")
    csv_edit.set_cell(path, 11, gao, cell)
    check(error_of(root), path, 11, "Gao", f"'{cell}' {what}")


def test_registration_correction_date_not_in_series(flee_copy, csv_edit) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "registration_corrections.csv"
    csv_edit.set_cell(path, 2, 1, "2012-10-04")  # "Mentao","2012-10-03"
    check(error_of(root), path, 2, "date", "2012-10-04 is not a data point")


def test_registration_correction_on_first_point(flee_copy, csv_edit) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "registration_corrections.csv"
    csv_edit.set_cell(path, 1, 1, "2015-05-01")  # Mahama's first data point
    check(error_of(root), path, 1, "date", "not a data point after the first")


def test_registration_correction_unknown_camp(flee_copy, csv_edit) -> None:
    root = flee_copy("burundi")
    path = root / "input_csv" / "registration_corrections.csv"
    csv_edit.set_cell(path, 4, 0, "Kigoma")
    check(error_of(root), path, 4, "camp", "no validation series named 'Kigoma'")


def test_registration_correction_before_start_is_ignored(flee_copy, csv_edit) -> None:
    """Flee ignores a correction dated before the simulation start; so must we."""
    root = flee_copy("mali")
    path = root / "input_csv" / "registration_corrections.csv"
    csv_edit.set_cell(path, 2, 1, "2011-01-01")  # Mentao's correction, now before the start
    sc = read_flee_scenario(root)
    mentao = next(s for s in sc.series if s.name == "Mentao")
    assert mentao.at(24) == 4091  # raw value, uncorrected


def test_routes_is_a_directory(flee_copy) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    path.unlink()
    path.mkdir()
    check(error_of(root), path, None, None, "")
