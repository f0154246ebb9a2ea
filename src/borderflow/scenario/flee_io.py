"""Read a Flee scenario directory (``input_csv/`` + ``source_data/``) into validated records.

The layout and the meaning of every column follow Flee's own readers (see ``docs/flee.md``).
Everything is checked here, before any simulation state exists, so that a malformed file stops
the run with one :class:`~borderflow.errors.ScenarioError` naming the file, row and column and
nothing has been written yet. Row numbers are 1-based line numbers in the file.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from borderflow.csvfile import csv_rows
from borderflow.errors import ScenarioError
from borderflow.scenario.border_schema import ObservationRow
from borderflow.scenario.confine import inside

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
class Series:
    """A dated count series (a camp's, or the total), as day offsets from the start date."""

    name: str
    days: np.ndarray  # int64, sorted
    values: np.ndarray  # float64

    def interpolate(self, t: np.ndarray) -> np.ndarray:
        """Flee's full interpolation at days ``t`` (int64).

        Constant outside the points, linear between them, truncated toward zero.
        """
        days, values = self.days, self.values
        t = np.asarray(t)
        if len(days) == 1:
            return np.full(t.shape, int(values[0]), dtype=np.int64)
        j = np.clip(np.searchsorted(days, t, side="right"), 1, len(days) - 1)
        d0, d1, v0, v1 = days[j - 1], days[j], values[j - 1], values[j]
        out = (v0 + (v1 - v0) * (t - d0) / (d1 - d0)).astype(np.int64)  # truncates like int()
        out = np.where(t <= days[0], int(values[0]), out)
        return np.where(t >= days[-1], int(values[-1]), out).astype(np.int64)

    def at(self, day: int) -> int:
        """The value on one day (see :meth:`interpolate`)."""
        return int(self.interpolate(np.array([day]))[0])

    def daily(self, n_days: int) -> np.ndarray:
        """Values for days 0..n_days-1 (int64)."""
        return self.interpolate(np.arange(n_days))


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

    @property
    def location_index(self) -> dict[str, int]:
        return {loc.name: i for i, loc in enumerate(self.locations)}


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) for every non-blank row of a CSV file."""
    return csv_rows(path)


def _number(text: str, *, path: Path, row: int, column: str, integer: bool = False) -> float:
    value = text.strip()
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ScenarioError(f"'{text}' is not {kind}", file=path, row=row, column=column) from None
    if not math.isfinite(number):
        raise ScenarioError(f"'{text}' is not finite", file=path, row=row, column=column)
    return number


def _date(text: str, *, path: Path, row: int, column: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ScenarioError(
            f"'{text}' is not a date (YYYY-MM-DD)", file=path, row=row, column=column
        ) from None


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


def read_conflicts(
    path: Path, names: set[str], n_days: int, warnings: list[str]
) -> tuple[tuple[str, ...], np.ndarray]:
    """Row 1 names the locations; data row k is day k (its first cell is ignored)."""
    rows = list(_rows(path))
    if not rows:
        raise ScenarioError("empty file: needs a header row naming locations", file=path)
    header_row, header = rows[0]
    columns = [(j, c.strip()) for j, c in enumerate(header) if j > 0 and c.strip()]
    unknown = [name for _, name in columns if name not in names]
    for name in unknown:
        # Flee prints an error for such a column and carries on; so do we, loudly.
        warnings.append(
            f"{path}, row {header_row}, column '{name}': not a location in locations.csv; "
            "column ignored"
        )
    columns = [(j, name) for j, name in columns if name in names]
    data = rows[1:]
    if len(data) < n_days:
        raise ScenarioError(f"has {len(data)} day rows but the run needs {n_days}", file=path)
    matrix = np.zeros((len(data), len(columns)), dtype=np.float64)
    for k, (row, cells) in enumerate(data):
        for i, (j, name) in enumerate(columns):
            text = cells[j] if j < len(cells) else ""
            matrix[k, i] = _number(text or "0", path=path, row=row, column=name)
    return tuple(name for _, name in columns), matrix


def _read_series_file(path: Path, start: dt.date, hasten: int) -> tuple[np.ndarray, np.ndarray]:
    days: list[int] = []
    values: list[float] = []
    for n, (row, cells) in enumerate(_rows(path)):
        first = cells[0].strip()
        if n == 0 and (first in ("Date", "DateTime") or first.startswith("#")):
            continue
        if len(cells) < 2 or not cells[1].strip():
            continue
        date = _date(first, path=path, row=row, column="date")
        count = _number(cells[1], path=path, row=row, column="count", integer=True)
        if count < 0:
            raise ScenarioError(f"{int(count)} is negative", file=path, row=row, column="count")
        days.append((date - start).days)
        values.append(count / hasten)
    if not days:
        raise ScenarioError("no dated counts", file=path)
    order = np.argsort(days, kind="stable")
    d = np.asarray(days, dtype=np.int64)[order]
    if np.any(np.diff(d) == 0):
        dup = int(d[np.flatnonzero(np.diff(d) == 0)[0]])
        raise ScenarioError(f"date {start + dt.timedelta(days=dup)} appears twice", file=path)
    return d, np.asarray(values, dtype=np.float64)[order]


def _merge(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Sum two series on the first's dates, carrying the second's last value forward."""
    d1, v1 = first
    d2, v2 = second
    idx = np.searchsorted(d2, d1, side="right") - 1
    add = np.where(idx >= 0, v2[np.clip(idx, 0, None)], 0.0)
    return d1, v1 + add


def read_validation(
    source: Path, start: dt.date, names: set[str], camps: set[str], hasten: int
) -> tuple[Series, ...]:
    """``data_layout.csv``: the first row is the total, then one series per camp."""
    layout = inside(source.parent, source / "data_layout.csv")
    out: list[Series] = []
    for row, cells in _rows(layout):
        cells = [c.strip() for c in cells]
        if cells[0].startswith("#") or len(cells) < 2:
            continue
        name, files = cells[0], [c for c in cells[1:] if c]
        if out and name not in names:
            raise ScenarioError(f"unknown location '{name}'", file=layout, row=row, column="name")
        merged: tuple[np.ndarray, np.ndarray] | None = None
        for file in files:
            target = inside(source.parent, source / file, named_in=layout, row=row, column="file")
            if not target.is_file():
                raise ScenarioError(
                    f"names '{file}', which does not exist", file=layout, row=row, column="file"
                )
            table = _read_series_file(target, start, hasten)
            merged = table if merged is None else _merge(merged, table)
        if merged is None:
            raise ScenarioError("names no file", file=layout, row=row, column="file")
        out.append(Series(name, merged[0], merged[1]))
    if not out:
        raise ScenarioError("no series (the first row must be the total)", file=layout)
    have = {s.name for s in out[1:]}
    missing = [c for c in sorted(camps) if c not in have]
    if missing:
        raise ScenarioError(f"no series for camp(s) {', '.join(missing)}", file=layout)
    return tuple(out)


def apply_registration_corrections(
    path: Path, series: tuple[Series, ...], start: dt.date
) -> tuple[Series, ...]:
    """Rescale a camp's counts before a re-registration date (UNHCR level-2 corrections)."""
    if not path.exists():
        return series
    by_name = {s.name: i for i, s in enumerate(series)}
    out = list(series)
    for row, cells in _rows(path):
        if len(cells) < 2:
            continue
        name = cells[0].strip()
        if name not in by_name:
            raise ScenarioError(
                f"no validation series named '{name}'", file=path, row=row, column="camp"
            )
        date = _date(cells[1], path=path, row=row, column="date")
        offset = (date - start).days
        if offset < 0:
            continue
        s = out[by_name[name]]
        hits = np.flatnonzero(s.days == offset)
        if hits.size == 0 or hits[0] == 0:
            raise ScenarioError(
                f"{date} is not a data point after the first in '{name}''s series",
                file=path,
                row=row,
                column="date",
            )
        i = int(hits[0])
        values = s.values.copy()
        if values[i - 1] == 0:
            raise ScenarioError(
                f"the point before {date} in '{name}''s series is 0", file=path, row=row
            )
        values[:i] *= values[i] / values[i - 1]
        out[by_name[name]] = Series(s.name, s.days, values)
    return tuple(out)


def read_flee_scenario(
    path: str | Path, *, days: int | None = None, hasten: int = 1
) -> FleeScenario:
    """Read and validate a whole Flee scenario directory.

    ``days`` overrides ``sim_period.csv``'s length (like Flee's command-line argument).
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
    start, length = read_sim_period(file("sim_period.csv"))
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
    warnings: list[str] = []
    conflict_names, conflicts = read_conflicts(file("conflicts.csv"), names, length, warnings)
    camps = {loc.name for loc in locations if "camp" in loc.kind}
    series = read_validation(source, start, names, camps, hasten)
    series = apply_registration_corrections(file("registration_corrections.csv"), series, start)
    return FleeScenario(
        name=root.resolve().name,
        path=root,
        start_date=start,
        length=length,
        locations=locations,
        routes=routes,
        closures=closures,
        conflict_names=conflict_names,
        conflicts=conflicts,
        series=series,
        warnings=tuple(warnings),
    )


def camp_observations(scenario: FleeScenario) -> list[ObservationRow]:
    """A scenario's camp series (after registration corrections) as observations.

    One dated count per point of each camp's series, as Flee's validation uses them; both the
    observation store (``obs import-flee``) and calibration read the series through this.
    """
    rows = []
    for series in scenario.series[1:]:
        for day, value in zip(series.days, series.values, strict=True):
            rows.append(
                ObservationRow(
                    date=scenario.start_date + dt.timedelta(days=int(day)),
                    location=series.name, indicator=CAMP_INDICATOR,
                    low=float(value), high=float(value),
                )
            )  # fmt: skip
    return rows
