"""Read a Flee scenario directory (``input_csv/`` + ``source_data/``) into validated records.

The layout and the meaning of every column follow Flee's own readers (see ``docs/flee.md``).
Everything is checked here, before any simulation state exists, so that a malformed file stops
the run with one :class:`~borderflow.errors.ScenarioError` naming the file, row and column and
nothing has been written yet. Row numbers are 1-based line numbers in the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from borderflow.csvfile import csv_rows
from borderflow.errors import ScenarioError
from borderflow.scenario.confine import inside
from borderflow.scenario.flee_series import (
    Series,
    apply_registration_corrections,
    read_validation,
    where,
)
from borderflow.scenario.flee_series import date_cell as _date
from borderflow.scenario.flee_series import number_cell as _number

if TYPE_CHECKING:  # the border-case schema (pydantic) loads only when observations are made
    from borderflow.scenario.border_schema import ObservationRow

__all__ = ["CAMP_INDICATOR", "Closure", "FleeScenario", "Location", "Route", "Series"]

#: The indicator of a camp's count, in the observation store and in calibration.
CAMP_INDICATOR = "refugees_in_camp"

LOCATION_TYPES = ("camp", "conflict", "forward", "marker", "flood_zone", "default", "town")
CLOSURE_TYPES = ("country", "location", "link", "camp", "idpcamp", "remove_forced_redirection")


@dataclass(frozen=True)
class Location:
    """One row of ``locations.csv``; ``size`` is the population, or the capacity of a camp."""

    name: str
    region: str
    country: str
    lat: float
    lon: float
    kind: str
    conflict_date: int | None
    size: int
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One row of ``routes.csv``: an undirected road of ``distance`` km."""

    a: str
    b: str
    distance: float
    forced_redirection: int
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Closure:
    """One row of ``closures.csv``; ``end`` of -1 means never lifted."""

    kind: str
    name1: str
    name2: str
    start: int
    end: int
    row: int


@dataclass(frozen=True)
class FleeScenario:
    """Everything a Flee default run reads, validated and in file order."""

    name: str
    path: Path
    start_date: dt.date
    length: int
    locations: tuple[Location, ...]
    routes: tuple[Route, ...]
    closures: tuple[Closure, ...]
    conflict_names: tuple[str, ...]
    conflicts: np.ndarray  # (rows, len(conflict_names)) float64
    series: tuple[Series, ...]  # data_layout order; the first is the total
    warnings: tuple[str, ...] = ()  # problems Flee also tolerates, for the user to see
    # conflicts.csv columns naming a location with spaces for underscores: (column, location)
    # and their values (rows, len(respelled)); Flee ignores them (rule respelled_conflicts).
    respelled: tuple[tuple[str, str], ...] = ()
    respelled_conflicts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def location_index(self) -> dict[str, int]:
        return {loc.name: i for i, loc in enumerate(self.locations)}


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) for every non-blank row of a CSV file."""
    return csv_rows(path)


def read_sim_period(path: Path) -> tuple[dt.date, int]:
    """``StartDate`` and ``Length`` rows, in any order, keys case-insensitive."""
    start: dt.date | None = None
    length: int | None = None
    for row, cells in _rows(path):
        key = cells[0].strip().lower()
        value = cells[1] if len(cells) > 1 else ""
        if key == "startdate":
            start = _date(value, path=path, row=row, column="StartDate")
        elif key == "length":
            length = int(_number(value, path=path, row=row, column="Length", integer=True))
            if length <= 0:
                raise ScenarioError("must be positive", file=path, row=row, column="Length")
    if start is None:
        raise ScenarioError("no StartDate row", file=path)
    if length is None:
        raise ScenarioError("no Length row", file=path)
    return start, length


#: The period file's name at Flee head (first) and in Flee 3.1 and earlier; same two rows.
PERIOD_FILES = ("sim_period.csv", "conflict_period.csv")


def read_period(
    inputs: Path, warnings: list[str], compatibility: str | None = None
) -> tuple[dt.date, int]:
    """The period from whichever period file the scenario has.

    Flee head reads ``sim_period.csv`` and 3.1 ``conflict_period.csv``; a scenario of either
    age runs. With both, the one of the Flee being followed is used (3.1's for
    ``compatibility="3.1"``), and a warning says so if the other disagrees.
    """
    order = PERIOD_FILES[::-1] if compatibility == "3.1" else PERIOD_FILES
    present = [inside(inputs.parent, inputs / n) for n in order if (inputs / n).exists()]
    if not present:
        raise ScenarioError(
            "no period file: needs sim_period.csv (or conflict_period.csv, its name in Flee "
            "3.1) with StartDate and Length rows",
            file=inputs,
        )
    period = read_sim_period(present[0])
    if len(present) > 1:
        try:
            other = read_sim_period(present[1])
        except ScenarioError as exc:
            other, text = None, f"cannot be read ({exc.message})"
        else:
            text = f"says {other[0]} for {other[1]} days"
        if other != period:
            warnings.append(
                f"{present[1]}: {text}, but {present[0].name} says {period[0]} for "
                f"{period[1]} days; {present[0].name} is used, as the Flee being followed does"
            )
    return period


def read_population_table(path: Path, locations: tuple[Location, ...], warnings: list[str]) -> None:
    """Cross-check ``population.csv`` (newer scenarios carry one) against locations.csv.

    Flee never reads this table: it is what column 8 of locations.csv was built from. A row
    that names a location (spaces read as underscores) with another number gets a warning;
    locations.csv's number is the one used, as in Flee. Nothing here can stop a run.
    """
    if not path.is_file():
        return
    try:
        rows = _rows(path)
    except ScenarioError as exc:
        warnings.append(f"{exc.describe()}; Flee does not read this file, and neither does the run")
        return
    sizes = {loc.name: loc.size for loc in locations}
    for row, cells in rows:
        if len(cells) < 2:
            continue
        name = "_".join(cells[0].split())
        try:
            number = int(cells[1].strip())
        except ValueError:
            continue  # a header, or text: the table is not an input of the run
        if name in sizes and sizes[name] != number:
            warnings.append(
                f"{where(path, row)}: '{cells[0].strip()}' has {number:,} here but "
                f"{sizes[name]:,} in locations.csv, whose number is used (as in Flee, which "
                "does not read this table)"
            )


def read_locations(path: Path) -> tuple[Location, ...]:
    """Positional columns: name, region, country, lat, lon, type, conflict_date, population."""
    base = (
        "name",
        "region",
        "country",
        "lat",
        "lon",
        "location_type",
        "conflict_date",
        "population",
    )
    custom: list[str] = []
    seen: dict[str, int] = {}
    out: list[Location] = []
    for row, cells in _rows(path):
        if cells[0].startswith("#"):
            custom = [c.strip() for c in cells[8:]]
            continue
        cells = [c.strip() for c in cells]
        if len(cells) < 6:
            raise ScenarioError(
                f"has {len(cells)} columns, needs at least 6 ({', '.join(base[:6])})",
                file=path,
                row=row,
            )
        cells += [""] * (8 - len(cells))
        name = cells[0]
        if not name:
            raise ScenarioError("empty location name", file=path, row=row, column="name")
        if name in seen:
            raise ScenarioError(
                f"duplicate location '{name}' (first on row {seen[name]})",
                file=path,
                row=row,
                column="name",
            )
        seen[name] = row
        kind = cells[5].lower()
        if not any(k in kind for k in LOCATION_TYPES):
            raise ScenarioError(
                f"unknown location type '{cells[5]}' (expected one of {', '.join(LOCATION_TYPES)})",
                file=path,
                row=row,
                column="location_type",
            )
        lat = _number(cells[3] or "0", path=path, row=row, column="lat")
        lon = _number(cells[4] or "0", path=path, row=row, column="lon")
        conflict_date = None
        if "conflict" in kind:
            conflict_date = int(
                _number(cells[6] or "0", path=path, row=row, column="conflict_date", integer=True)
            )
        size = int(_number(cells[7] or "0", path=path, row=row, column="population", integer=True))
        if size < 0:
            raise ScenarioError(f"{size} is negative", file=path, row=row, column="population")
        extra = cells[8:]
        if extra and len(custom) < len(extra):
            raise ScenarioError(
                "has custom columns but no header row names them", file=path, row=row
            )
        attrs = dict(zip(custom, extra, strict=False))
        for key in ("capacity_per_day", "initial_idps"):
            if key in attrs:
                _number(attrs[key], path=path, row=row, column=key, integer=True)
        if attrs.get("conflict_intensity"):
            _number(attrs["conflict_intensity"], path=path, row=row, column="conflict_intensity")
        out.append(
            Location(
                name=name,
                region=cells[1] or "unknown",
                country=cells[2] or "unknown",
                lat=lat,
                lon=lon,
                kind=kind,
                conflict_date=conflict_date,
                size=size,
                attrs=attrs,
            )
        )
    if not out:
        raise ScenarioError("no locations: the graph is empty", file=path)
    return tuple(out)


def read_routes(path: Path, names: set[str]) -> tuple[Route, ...]:
    """Columns: name1, name2, distance (km, > 0), forced_redirection, custom attributes."""
    custom: list[str] = []
    out: list[Route] = []
    for row, cells in _rows(path):
        if cells[0].startswith("#"):
            custom = [c.strip() for c in cells[4:]]
            continue
        cells = [c.strip() for c in cells]
        if len(cells) < 3:
            raise ScenarioError(
                f"has {len(cells)} columns, needs name1, name2, distance", file=path, row=row
            )
        for column, name in (("name1", cells[0]), ("name2", cells[1])):
            if name not in names:
                raise ScenarioError(f"unknown location '{name}'", file=path, row=row, column=column)
        if cells[0] == cells[1]:
            raise ScenarioError(
                f"route from '{cells[0]}' to itself", file=path, row=row, column="name2"
            )
        distance = _number(cells[2], path=path, row=row, column="distance")
        if distance <= 0:
            raise ScenarioError(
                f"distance {cells[2]} must be positive", file=path, row=row, column="distance"
            )
        redirection = 0
        if len(cells) > 3 and cells[3]:
            redirection = int(
                _number(cells[3], path=path, row=row, column="forced_redirection", integer=True)
            )
        attrs = dict(zip(custom, cells[4:], strict=False))
        for key in ("max_move_speed", "walk_probability"):
            if attrs.get(key):
                value = _number(attrs[key], path=path, row=row, column=key)
                if value < 0 or (key == "walk_probability" and value > 1):
                    raise ScenarioError(f"{value} is out of range", file=path, row=row, column=key)
        out.append(Route(cells[0], cells[1], distance, redirection, attrs))
    if not out:
        raise ScenarioError("no routes: the graph has no links", file=path)
    return tuple(out)


def read_closures(path: Path, names: set[str], countries: set[str]) -> tuple[Closure, ...]:
    """Columns: closure_type, name1, name2, start_day, end_day (-1: never lifted)."""
    if not path.exists():
        return ()
    out: list[Closure] = []
    for row, cells in _rows(path):
        if cells[0].startswith("#"):
            continue
        cells = [c.strip() for c in cells]
        if len(cells) < 5:
            raise ScenarioError(
                f"has {len(cells)} columns, needs closure_type, name1, name2, start, end",
                file=path,
                row=row,
            )
        kind = cells[0].lower()
        if kind not in CLOSURE_TYPES:
            raise ScenarioError(
                f"unknown closure type '{cells[0]}' (expected one of {', '.join(CLOSURE_TYPES)})",
                file=path,
                row=row,
                column="closure_type",
            )
        known, what = (countries, "country") if kind == "country" else (names, "location")
        checks = [("name1", cells[1])]
        if kind in ("country", "link", "remove_forced_redirection"):
            checks.append(("name2", cells[2]))
        for column, name in checks:
            if name not in known:
                raise ScenarioError(f"unknown {what} '{name}'", file=path, row=row, column=column)
        start = int(_number(cells[3], path=path, row=row, column="closure_start", integer=True))
        end = int(_number(cells[4], path=path, row=row, column="closure_end", integer=True))
        if start < 0:
            raise ScenarioError(f"{start} is negative", file=path, row=row, column="closure_start")
        out.append(Closure(kind, cells[1], cells[2], start, end, row))
    return tuple(out)


def respelling(name: str, names: set[str]) -> str | None:
    """The location a conflicts.csv column means when it writes spaces for underscores."""
    guess = "_".join(name.split())
    return guess if guess != name and guess in names else None


def read_conflicts(
    path: Path, names: set[str], n_days: int, warnings: list[str]
) -> tuple[tuple[str, ...], np.ndarray, tuple[tuple[str, str], ...]]:
    """Row 1 names the locations; data row k is day k (its first cell is ignored).

    Returns the columns naming a location, their values, and the columns that name one with
    spaces for underscores as (column, location): their values follow in the same matrix.
    Flee ignores both those and columns naming nothing; which rules read the respelled ones
    is a rule choice (``respelled_conflicts``).
    """
    rows = list(_rows(path))
    if not rows:
        raise ScenarioError("empty file: needs a header row naming locations", file=path)
    header_row, header = rows[0]
    columns = [(j, c.strip()) for j, c in enumerate(header) if j > 0 and c.strip()]
    exact_names = {name for _, name in columns if name in names}
    respelled = [
        (j, name, None if (loc := respelling(name, names)) in exact_names else loc)
        for j, name in columns
        if name not in names
    ]
    for _, name, location in respelled:
        # Flee prints an error for such a column and carries on; so do we, loudly.
        what = "not a location in locations.csv; column ignored"
        if location is not None:
            what = (
                f"not a location in locations.csv, but '{location}' is (spaces for "
                f"underscores): --compat head and 3.1 ignore the column, as Flee does, so "
                f"'{location}' never enters conflict through it; the default rules read it as "
                f"'{location}'"
            )
        warnings.append(f"{where(path, header_row, name)}: {what}")
    extra = [(j, name, loc) for j, name, loc in respelled if loc is not None]
    columns = [(j, name) for j, name in columns if name in names] + [(j, n) for j, n, _ in extra]
    data = rows[1:]
    if len(data) < n_days:
        raise ScenarioError(f"has {len(data)} day rows but the run needs {n_days}", file=path)
    matrix = _conflict_matrix(path, data, columns)
    exact = tuple(name for _, name in columns[: len(columns) - len(extra)])
    return exact, matrix, tuple((name, loc) for _, name, loc in extra)


def _conflict_matrix(
    path: Path, data: list[tuple[int, list[str]]], columns: list[tuple[int, str]]
) -> np.ndarray:
    """The intensities of ``columns`` on every day row; an empty cell is 0.

    Long files hold some 10^5 cells: a first pass converts them in bulk, and only when it
    fails are the cells converted again one by one, for the error naming the row and column.
    """
    idx = [j for j, _ in columns]
    try:
        width = max(idx, default=-1) + 1
        cells_of = [cells + [""] * (width - len(cells)) for _, cells in data]
        matrix = np.array(
            [[float(cells[j] or "0") for j in idx] for cells in cells_of], dtype=np.float64
        ).reshape(len(data), len(columns))
        if np.isfinite(matrix).all():
            return matrix
    except ValueError:
        pass
    matrix = np.zeros((len(data), len(columns)), dtype=np.float64)
    for k, (row, cells) in enumerate(data):
        for i, (j, name) in enumerate(columns):
            text = cells[j] if j < len(cells) else ""
            matrix[k, i] = _number(text or "0", path=path, row=row, column=name)
    return matrix


def read_flee_scenario(
    path: str | Path,
    *,
    days: int | None = None,
    hasten: int = 1,
    compatibility: str | None = None,
) -> FleeScenario:
    """Read and validate a whole Flee scenario directory.

    ``days`` overrides the period file's length (like Flee's command-line argument);
    ``compatibility`` ("3.1") picks 3.1's period file where a scenario has both.
    """
    root = Path(path)
    if not root.is_dir():
        raise ScenarioError("scenario directory not found", file=root)
    inputs, source = root / "input_csv", root / "source_data"
    for folder in (inputs, source):
        if not folder.is_dir():
            raise ScenarioError("directory not found", file=folder)

    def file(name: str) -> Path:  # no file of the scenario may lead out of its folder
        return inside(root, inputs / name)

    inside(root, source)
    for changes in (inputs / "location_changes.csv", root / "location_changes.csv"):
        if changes.exists():
            raise ScenarioError(
                "changes location types during the run (Flee's location_changes.csv), a Flee "
                "feature borderflow does not implement; remove the file to run without them",
                file=changes,
            )
    warnings: list[str] = []
    start, length = read_period(inputs, warnings, compatibility)
    if days is not None:
        if days <= 0:
            raise ScenarioError(f"--days {days} must be positive")
        length = days
    locations = read_locations(file("locations.csv"))
    names = {loc.name for loc in locations}
    countries = {loc.country for loc in locations}
    routes = read_routes(file("routes.csv"), names)
    closures = read_closures(file("closures.csv"), names, countries)
    roads = {frozenset((r.a, r.b)) for r in routes}
    for c in closures:
        if c.kind == "link" and frozenset((c.name1, c.name2)) not in roads:
            raise ScenarioError(
                f"no route between '{c.name1}' and '{c.name2}' to close",
                file=inputs / "closures.csv",
                row=c.row,
                column="name2",
            )
    read_population_table(file("population.csv"), locations, warnings)
    conflict_names, conflicts, respelled = read_conflicts(
        file("conflicts.csv"), names, length, warnings
    )
    camps = {loc.name for loc in locations if "camp" in loc.kind}
    series = read_validation(source, start, names, camps, hasten, warnings)
    series = apply_registration_corrections(
        file("registration_corrections.csv"), series, start, warnings
    )
    return FleeScenario(
        name=root.resolve().name,
        path=root,
        start_date=start,
        length=length,
        locations=locations,
        routes=routes,
        closures=closures,
        conflict_names=conflict_names,
        conflicts=conflicts[:, : len(conflict_names)],
        series=series,
        respelled=respelled,
        respelled_conflicts=conflicts[:, len(conflict_names) :],
        warnings=tuple(warnings),
    )


def camp_observations(scenario: FleeScenario) -> list[ObservationRow]:
    """A scenario's camp series (after registration corrections) as observations.

    One dated count per distinct date of each camp's series, the value Flee's validation uses
    on that date; both the observation store (``obs import-flee``) and calibration read the
    series through this. A series naming no location observes nothing and is left out.
    """
    from borderflow.scenario.border_schema import ObservationRow

    places = scenario.location_index
    rows = []
    for series in scenario.series[1:]:
        if series.name not in places:
            continue
        days, values = series.points()
        for day, value in zip(days, values, strict=True):
            rows.append(
                ObservationRow(
                    date=scenario.start_date + dt.timedelta(days=int(day)),
                    location=series.name, indicator=CAMP_INDICATOR,
                    low=float(value), high=float(value),
                )
            )  # fmt: skip
    return rows
